/*
 * streams_client: a minimal libpq client for the event-stream benchmarks,
 * so that both sides of a comparison travel the way a driver sends them:
 *
 *   streams_client copy TABLE FILE     COPY TABLE (stream, event_id, type, data)
 *                                      FROM STDIN (FORMAT csv), FILE streamed
 *   streams_client append STREAM FILE  SELECT agentstore.append_events($1, $2)
 *                                      with FILE (a JSON array) as the untyped
 *                                      parameter $2, as drivers send strings
 *                                      (it resolves to the text form)
 *   streams_client append-jsonb STREAM FILE   the same with $2::jsonb
 *
 * Connects with the PG* environment variables, then prints the seconds the
 * operation took (connection set-up excluded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libpq-fe.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(PGconn *conn, const char *what)
{
	fprintf(stderr, "streams_client: %s: %s", what, PQerrorMessage(conn));
	exit(1);
}

/* Read a whole file into a NUL-terminated buffer. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len + 1);
	if (buf == NULL || fread(buf, 1, *len, f) != *len)
	{
		perror(path);
		exit(1);
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	char	   *data;
	size_t		len;
	double		start;

	if (argc != 4 || (strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "append") != 0 &&
					  strcmp(argv[1], "append-jsonb") != 0))
	{
		fprintf(stderr, "usage: streams_client copy TABLE FILE | append[-jsonb] STREAM FILE\n");
		return 2;
	}
	data = slurp(argv[3], &len);
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
		die(conn, "connect");

	start = now();
	if (strcmp(argv[1], "copy") == 0)
	{
		char		sql[512];
		size_t		off;

		snprintf(sql, sizeof(sql),
				 "COPY %s (stream, event_id, type, data) FROM STDIN (FORMAT csv)", argv[2]);
		res = PQexec(conn, sql);
		if (PQresultStatus(res) != PGRES_COPY_IN)
			die(conn, "COPY");
		PQclear(res);
		for (off = 0; off < len; off += 65536)
			if (PQputCopyData(conn, data + off, (int) (len - off < 65536 ? len - off : 65536)) != 1)
				die(conn, "COPY data");
		if (PQputCopyEnd(conn, NULL) != 1)
			die(conn, "COPY end");
		res = PQgetResult(conn);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die(conn, "COPY result");
	}
	else
	{
		const char *values[2] = {argv[2], data};

		res = PQexecParams(conn,
						   strcmp(argv[1], "append") == 0 ?
						   "SELECT last_version FROM agentstore.append_events($1, $2)" :
						   "SELECT last_version FROM agentstore.append_events($1, $2::jsonb)",
						   2, NULL, values, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			die(conn, "append_events");
	}
	PQclear(res);
	printf("%.4f\n", now() - start);
	PQfinish(conn);
	free(data);
	return 0;
}
