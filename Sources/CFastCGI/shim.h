#ifndef TEXTING_CFASTCGI_SHIM_H
#define TEXTING_CFASTCGI_SHIM_H
#include <fcgiapp.h>
/* malloc_trim: the FastCGI server hands memory back to the system after a large request. */
#include <malloc.h>
#endif
