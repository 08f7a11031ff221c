/*
 * bench/trivial_fcgi.c: the ceiling for the reads figure. A FastCGI responder that does
 * nothing but answer: N threads (MessagesFCGI runs 8) accepting on one unix socket with
 * libfcgi, as MessagesFCGI does, each answering every request with the same bytes: 200, a
 * JSON content type and BODY_FILE's contents (scripts/bench saves a real GET /messages/{id}
 * answer there, so both figures move the same number of bytes). No database, no parsing.
 *
 *   build: gcc -O2 -o trivial_fcgi bench/trivial_fcgi.c -lfcgi -lpthread
 *   usage: trivial_fcgi SOCKET_PATH THREADS BODY_FILE
 *
 * Bench only; it exits on SIGTERM (the default action, restored after FCGX_Init), which is
 * how scripts/bench stops it.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_socket;
static char *answer;
static int answer_length;

static void *serve(void *unused)
{
    (void)unused;
    FCGX_Request request;
    if (FCGX_InitRequest(&request, listen_socket, 0) != 0) {
        fprintf(stderr, "trivial_fcgi: FCGX_InitRequest failed\n");
        exit(1);
    }
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(answer, answer_length, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: trivial_fcgi SOCKET_PATH THREADS BODY_FILE\n");
        return 2;
    }
    int threads = atoi(argv[2]);
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "trivial_fcgi: THREADS must be 1 to 256\n");
        return 2;
    }

    FILE *file = fopen(argv[3], "rb");
    if (file == NULL) {
        perror("trivial_fcgi: BODY_FILE");
        return 1;
    }
    static char body[65536];
    size_t body_length = fread(body, 1, sizeof body, file);
    fclose(file);
    answer = malloc(body_length + 256);
    if (answer == NULL) return 1;
    answer_length = snprintf(answer, 256, "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                             body_length);
    memcpy(answer + answer_length, body, body_length);
    answer_length += (int)body_length;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "trivial_fcgi: FCGX_Init failed\n");
        return 1;
    }
    /* libfcgi's SIGTERM handler only sets a flag that threads blocked in accept never see. */
    signal(SIGTERM, SIG_DFL);
    unlink(argv[1]);
    listen_socket = FCGX_OpenSocket(argv[1], 1024);
    if (listen_socket < 0) {
        fprintf(stderr, "trivial_fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1], 0777); /* nginx's workers connect to it */

    pthread_t *workers = calloc((size_t)threads, sizeof *workers);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&workers[i], NULL, serve, NULL) != 0) {
            fprintf(stderr, "trivial_fcgi: pthread_create failed\n");
            return 1;
        }
    }
    fprintf(stderr, "trivial_fcgi: %d threads on %s, %d-byte answer\n", threads, argv[1], answer_length);
    for (int i = 0; i < threads; i++) pthread_join(workers[i], NULL);
    return 0;
}
