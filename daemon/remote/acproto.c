/* ActionResult entries, hand-encoded (see acproto.h): five wire rules are
 * less than a protobuf library, and only two fields matter. */
#include <stdbool.h>
#include <string.h>

#include "acproto.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
enum { F_STDOUT_RAW = 5, F_STDOUT_DIGEST = 6, F_DIGEST_HASH = 1, F_DIGEST_SIZE = 2 };

static void put_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		buf_addch(b, (char)(v | 0x80));
		v >>= 7;
	}
	buf_addch(b, (char)v);
}

static void put_len(struct buf *b, unsigned field, const void *data, size_t len)
{
	put_varint(b, (uint64_t)field << 3 | WT_LEN);
	put_varint(b, len);
	buf_add(b, data, len);
}

void ac_wrap_inline(const void *data, size_t len, struct buf *out)
{
	put_len(out, F_STDOUT_RAW, data, len);
}

void ac_wrap_digest(const char *hash, uint64_t size, struct buf *out)
{
	struct buf d = BUF_INIT;

	put_len(&d, F_DIGEST_HASH, hash, strlen(hash));
	put_varint(&d, (uint64_t)F_DIGEST_SIZE << 3 | WT_VARINT);
	put_varint(&d, size);
	put_len(out, F_STDOUT_DIGEST, d.buf, d.len);
	buf_release(&d);
}

/* Reads a varint at *p (before end); -1 when cut or longer than 10 bytes. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (*p >= end)
			return -1;
		*v |= (uint64_t)(**p & 0x7f) << shift;
		if (*(*p)++ < 0x80)
			return 0;
	}
	return -1;
}

/* The next field of a message: its number, wire type and, for WT_LEN, its
 * bytes, for WT_VARINT its value (*len); fixed types are skipped. -1 when
 * malformed. */
static int next_field(const unsigned char **p, const unsigned char *end, unsigned *field,
    unsigned *type, const unsigned char **data, size_t *len)
{
	uint64_t key, n;
	int rc;

	if (get_varint(p, end, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 536870911)
		return -1;
	*field = (unsigned)(key >> 3);
	*type = (unsigned)(key & 7);
	switch (*type) {
	case WT_VARINT:
		rc = get_varint(p, end, &n);
		*len = (size_t)n;
		return rc;
	case WT_FIXED64:
		if (end - *p < 8)
			return -1;
		*p += 8;
		return 0;
	case WT_FIXED32:
		if (end - *p < 4)
			return -1;
		*p += 4;
		return 0;
	case WT_LEN:
		if (get_varint(p, end, &n) != 0 || n > (uint64_t)(end - *p))
			return -1;
		*data = *p;
		*len = (size_t)n;
		*p += n;
		return 0;
	default:
		return -1;	/* groups are long gone from protobuf */
	}
}

static int read_digest(const unsigned char *p, const unsigned char *end, struct ac_ref *out)
{
	bool have_hash = false;

	while (p < end) {
		unsigned field, type;
		const unsigned char *data = NULL;
		size_t len = 0;

		if (next_field(&p, end, &field, &type, &data, &len) != 0)
			return -1;
		if (field == F_DIGEST_HASH && type == WT_LEN) {
			if (len != SHA256_HEX)
				return -1;
			memcpy(out->hash, data, SHA256_HEX);
			out->hash[SHA256_HEX] = '\0';
			have_hash = sha256_is_hex(out->hash);
		} else if (field == F_DIGEST_SIZE && type == WT_VARINT)
			out->size = len;
	}
	return have_hash ? 0 : -1;
}

int ac_unwrap(const char *entry, size_t len, struct ac_ref *out, const char **why)
{
	const unsigned char *p = (const unsigned char *)entry, *end = p + len;
	bool found = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		unsigned field, type;
		const unsigned char *data = NULL;
		size_t n = 0;

		if (next_field(&p, end, &field, &type, &data, &n) != 0) {
			*why = "it is not an action-cache entry (protobuf)";
			return -1;
		}
		if (type != WT_LEN)
			continue;
		if (field == F_STDOUT_RAW) {
			out->data = (const char *)data;
			out->len = n;
			out->hash[0] = '\0';
			found = true;
		} else if (field == F_STDOUT_DIGEST && !found) {
			if (read_digest(data, data + n, out) != 0) {
				*why = "its digest is malformed";
				return -1;
			}
			found = true;
		}
	}
	if (!found) {
		*why = "it holds no watchd record";
		return -1;
	}
	return 0;
}
