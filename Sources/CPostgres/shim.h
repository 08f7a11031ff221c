#ifndef TEXTING_CPOSTGRES_SHIM_H
#define TEXTING_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>

/* Char-literal macros such as PG_DIAG_SQLSTATE ('C') do not import into Swift. */
static inline int texting_pg_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int texting_pg_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int texting_pg_diag_message_detail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int texting_pg_diag_constraint_name(void) { return PG_DIAG_CONSTRAINT_NAME; }
#endif
