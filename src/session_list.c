/*-------------------------------------------------------------------------
 *
 * session_list.c
 *	  list_sessions: keyset pagination of sessions, newest-updated first.
 *
 * A page is read from the index (app_name[, user_id], updated_at DESC,
 * id DESC) starting strictly after the last row of the previous page, so
 * page 1,000 costs what page 1 costs and rows inserted meanwhile (which are
 * newer) never shift later pages.  The position travels in an opaque page
 * token: base64url of (format byte, updated_at, id) followed by a 16-byte
 * HMAC-SHA-256 over that payload and the listing's filter (app_name,
 * user_id).  The key is derived from the cluster's mock-authentication
 * nonce (a random value that initdb stores in pg_control, which no SQL
 * function returns) and the database's OID, so that no role can compute it
 * short of reading the server's files (superusers and members of
 * pg_read_server_files can).  A token that was altered, forged without the
 * key, or issued for another listing or database is rejected with a clear
 * error.  The token is integrity-protected, not encrypted: its position is
 * readable by whoever decodes it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_control.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "common/hmac.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "sessions.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(agentstore_list_sessions);

#define TOKEN_FORMAT		1
#define TOKEN_PAYLOAD_LEN	17	/* format byte, updated_at, id */
#define TOKEN_MAC_LEN		16
#define TOKEN_LEN			(TOKEN_PAYLOAD_LEN + TOKEN_MAC_LEN)
#define PAGE_SIZE_MAX		10000

/*
 * The signing key of this database's page tokens: a label, the cluster's
 * mock-authentication nonce (secret: see the file header) and the
 * database's OID.
 */
static int
token_key(uint8 *key, int size)
{
	static const char label[] = "agentstore page token";
	uint32		dboid = pg_hton32(MyDatabaseId);
	int			len = 0;

	StaticAssertStmt(sizeof(label) + MOCK_AUTH_NONCE_LEN + sizeof(uint32) <= 128,
					 "page token key buffer too small");
	Assert(size >= 128);
	memcpy(key + len, label, sizeof(label));
	len += sizeof(label);
	memcpy(key + len, GetMockAuthenticationNonce(), MOCK_AUTH_NONCE_LEN);
	len += MOCK_AUTH_NONCE_LEN;
	memcpy(key + len, &dboid, sizeof(dboid));
	len += sizeof(dboid);
	return len;
}

/* HMAC of a token payload and the listing's filter. */
static void
token_mac(const uint8 *payload, text *app_name, text *user_id, uint8 *mac)
{
	uint8		key[128];
	uint8		full[PG_SHA256_DIGEST_LENGTH];
	uint8		sep = 0;
	uint8		has_user = (user_id != NULL);
	pg_hmac_ctx *ctx;
	int			keylen;

	keylen = token_key(key, sizeof(key));
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, payload, TOKEN_PAYLOAD_LEN) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) VARDATA_ANY(app_name),
					   VARSIZE_ANY_EXHDR(app_name)) < 0 ||
		pg_hmac_update(ctx, &sep, 1) < 0 ||
		pg_hmac_update(ctx, &has_user, 1) < 0 ||
		(user_id != NULL &&
		 pg_hmac_update(ctx, (const uint8 *) VARDATA_ANY(user_id),
						VARSIZE_ANY_EXHDR(user_id)) < 0) ||
		pg_hmac_final(ctx, full, sizeof(full)) < 0)
	{
		const char *msg = pg_hmac_error(ctx);

		explicit_bzero(key, sizeof(key));
		pg_hmac_free(ctx);
		elog(ERROR, "could not compute the page token's HMAC: %s", msg);
	}
	explicit_bzero(key, sizeof(key));
	pg_hmac_free(ctx);
	memcpy(mac, full, TOKEN_MAC_LEN);
}

/* Encode the position after (updated_at, id) as a page token. */
static char *
token_encode(TimestampTz updated_at, int64 id, text *app_name, text *user_id)
{
	uint8		raw[TOKEN_LEN];
	uint64		v;
	char	   *out;
	int			len,
				i;

	raw[0] = TOKEN_FORMAT;
	v = pg_hton64((uint64) updated_at);
	memcpy(raw + 1, &v, 8);
	v = pg_hton64((uint64) id);
	memcpy(raw + 9, &v, 8);
	token_mac(raw, app_name, user_id, raw + TOKEN_PAYLOAD_LEN);

	out = palloc(pg_b64_enc_len(TOKEN_LEN) + 1);
	len = compat_b64_encode(raw, TOKEN_LEN, out, pg_b64_enc_len(TOKEN_LEN));
	if (len < 0)
		elog(ERROR, "could not encode the page token");
	/* base64url without padding */
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++)
	{
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* Report an unusable page token. */
static void
token_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid page token"),
			 errdetail("%s", detail),
			 errhint("Pass the next_page_token of the previous page unchanged, with the same app_name and user_id.")));
}

/* Decode and verify a page token; the position comes back in *updated_at, *id. */
static void
token_decode(text *token, text *app_name, text *user_id,
			 TimestampTz *updated_at, int64 *id)
{
	int			len = VARSIZE_ANY_EXHDR(token);
	const char *src = VARDATA_ANY(token);
	char	   *b64;
	uint8		raw[TOKEN_LEN + 3];
	uint8		mac[TOKEN_MAC_LEN];
	uint64		v;
	int			n,
				i;

	if (len == 0 || len > 64)
		token_error("The token does not have the length of a page token.");
	b64 = palloc(len + 4);
	for (i = 0; i < len; i++)
	{
		char		c = src[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || c == '=')
			token_error("The token contains characters a page token never has.");
		b64[i] = c;
	}
	while (i % 4 != 0)
		b64[i++] = '=';
	n = compat_b64_decode(b64, i, raw, sizeof(raw));
	if (n != TOKEN_LEN)
		token_error("The token is not a page token of agentstore.list_sessions.");
	if (raw[0] != TOKEN_FORMAT)
		token_error("The token has an unknown format.");
	token_mac(raw, app_name, user_id, mac);
	/* in constant time: not telling how much of the MAC matched */
	if (timingsafe_bcmp(mac, raw + TOKEN_PAYLOAD_LEN, TOKEN_MAC_LEN) != 0)
		token_error("The token was altered, or was issued for another app_name or user_id.");
	memcpy(&v, raw + 1, 8);
	*updated_at = (TimestampTz) pg_ntoh64(v);
	memcpy(&v, raw + 9, 8);
	*id = (int64) pg_ntoh64(v);
}

/*
 * agentstore.list_sessions(app_name, user_id, page_size, page_token):
 * {"sessions": [...metadata...], "next_page_token": text or null}.  Only
 * active, unexpired sessions; user_id NULL lists the whole app.
 */
Datum
agentstore_list_sessions(PG_FUNCTION_ARGS)
{
#define LIST_COLUMNS \
	"SELECT s.updated_at, s.id, pg_catalog.jsonb_build_object(" \
	"    'id', s.id, 'app_name', s.app_name, 'user_id', s.user_id, 'session_id', s.session_id," \
	"    'created_at', s.created_at, 'updated_at', s.updated_at, 'expires_at', s.expires_at)" \
	"  OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(" \
	"    'agent_id', s.agent_id, 'team_id', s.team_id, 'workflow_id', s.workflow_id, 'name', s.name))" \
	"  FROM agentstore.sessions s" \
	" WHERE s.app_name OPERATOR(pg_catalog.=) $1 AND s.deleted_at IS NULL" \
	"   AND (s.expires_at IS NULL OR s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
/* each listing states the predicate of its index (sql/10_sessions.sql) */
#define LIST_USER " AND s.user_id OPERATOR(pg_catalog.=) $2" \
	" AND s.updated_at OPERATOR(pg_catalog.<=) 'infinity'::pg_catalog.timestamptz"
#define LIST_APP " AND s.created_at OPERATOR(pg_catalog.<=) 'infinity'::pg_catalog.timestamptz"
#define LIST_AFTER " AND ROW(s.updated_at, s.id) OPERATOR(pg_catalog.<) ROW($4, $5)"
#define LIST_ORDER " ORDER BY s.updated_at DESC, s.id DESC LIMIT $3"
	static const char *sqls[4] = {
		LIST_COLUMNS LIST_USER LIST_ORDER,
		LIST_COLUMNS LIST_USER LIST_AFTER LIST_ORDER,
		LIST_COLUMNS LIST_APP LIST_ORDER,
		LIST_COLUMNS LIST_APP LIST_AFTER LIST_ORDER
	};
	static const char *keys[4] = {
		"session.list.user.first", "session.list.user.next",
		"session.list.app.first", "session.list.app.next"
	};
	static const Oid types[] = {TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID, INT8OID};
	text	   *app_name;
	text	   *user_id = NULL;
	int32		page_size = 20;
	TimestampTz after_ts = 0;
	int64		after_id = 0;
	bool		has_token = false;
	Datum		args[5];
	int			which;
	uint64		i,
				nrows;
	JsonbParseState *state = NULL;
	JsonbValue	k,
				v;
	char	   *next_token = NULL;
	MemoryContext caller_cxt = CurrentMemoryContext;
	Jsonb	   *result;

	app_name = session_check_key_arg(fcinfo, 0, "app_name");
	if (!PG_ARGISNULL(1))
		user_id = session_check_key_arg(fcinfo, 1, "user_id");
	if (!PG_ARGISNULL(2))
	{
		page_size = PG_GETARG_INT32(2);
		if (page_size < 1 || page_size > PAGE_SIZE_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("page_size must be between 1 and %d", PAGE_SIZE_MAX),
					 errdetail("page_size is %d.", page_size)));
	}
	if (!PG_ARGISNULL(3))
	{
		token_decode(PG_GETARG_TEXT_PP(3), app_name, user_id,
					 &after_ts, &after_id);
		has_token = true;
	}

	which = (user_id ? 0 : 2) + (has_token ? 1 : 0);
	args[0] = PointerGetDatum(app_name);
	args[1] = PointerGetDatum(user_id);
	args[2] = Int32GetDatum(page_size + 1);
	args[3] = TimestampTzGetDatum(after_ts);
	args[4] = Int64GetDatum(after_id);

	SPI_connect();
	/* argument numbers must match: the app-wide plans still declare $2 */
	nrows = spi_run(keys[which], sqls[which], 5, types, args,
					user_id ? NULL : " n   ", true, 0, SPI_OK_SELECT);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	k.type = jbvString;
	k.val.string.val = "sessions";
	k.val.string.len = strlen("sessions");
	pushJsonbValue(&state, WJB_KEY, &k);
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < nrows && i < (uint64) page_size; i++)
	{
		bool		isnull;
		Jsonb	   *row = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 3, &isnull));

		v.type = jbvBinary;
		v.val.binary.data = &row->root;
		v.val.binary.len = VARSIZE(row) - VARHDRSZ;
		pushJsonbValue(&state, WJB_ELEM, &v);
		if (i + 1 == (uint64) page_size && nrows > (uint64) page_size)
		{
			TimestampTz ts = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 1, &isnull));
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 2, &isnull));

			next_token = token_encode(ts, id, app_name, user_id);
		}
	}
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	k.val.string.val = "next_page_token";
	k.val.string.len = strlen("next_page_token");
	pushJsonbValue(&state, WJB_KEY, &k);
	if (next_token)
	{
		v.type = jbvString;
		v.val.string.val = next_token;
		v.val.string.len = strlen(next_token);
	}
	else
		v.type = jbvNull;
	pushJsonbValue(&state, WJB_VALUE, &v);
	{
		/* build the result in the caller's context, which outlives SPI's */
		MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);

		result = JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
		MemoryContextSwitchTo(spi_cxt);
	}
	SPI_finish();
	PG_RETURN_JSONB_P(result);
}
