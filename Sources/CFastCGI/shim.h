#ifndef TEXTING_CFASTCGI_SHIM_H
#define TEXTING_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#endif
