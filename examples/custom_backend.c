/* SPDX-License-Identifier: MIT */
/*
 * A durability backend of your own (<runstate/durability.h>): every commit
 * record is appended to a file you choose, and replayed from it at open.
 * The same interface can ship records to a replica, a message queue or an
 * object store instead.
 *
 * File format (little-endian, one frame per record):
 *   u32 frame length (bytes after this field)
 *   u32 kind, 16-byte run, u64 version, u64 timestamp, u32 nops,
 *   16-byte drop_run, u64 drop_version,
 *   then per op: u8 tag, u8 is_delete, u32 klen, u32 vlen, key, value.
 * A frame cut short by a crash ends the file: recovery stops there. (No
 * checksums: the built-in log, docs/wal-format.md, is what to use when bit
 * rot matters.)
 *
 * Strict commits are fdatasync()ed before commit() returns; Buffered ones
 * are written and left to rs_db_flush() and close.
 *
 * Usage: custom_backend [FILE]   (default: a temporary file, removed)
 */
#define _GNU_SOURCE
#include <runstate/durability.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct file_backend {
	int fd;
	pthread_mutex_t mu; /* records of different runs come concurrently */
} file_backend;

/* ---- encoding ---- */

typedef struct frame {
	unsigned char *p;
	size_t len, cap;
} frame;

static int put(frame *f, const void *src, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		unsigned char *p;

		while (cap < f->len + n)
			cap *= 2;
		if (!(p = realloc(f->p, cap)))
			return RS_ENOMEM;
		f->p = p;
		f->cap = cap;
	}
	memcpy(f->p + f->len, src, n);
	f->len += n;
	return 0;
}

static int put_u32(frame *f, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	return put(f, b, 4);
}

static int put_u64(frame *f, uint64_t v)
{
	int rc = put_u32(f, (uint32_t)v);

	return rc ? rc : put_u32(f, (uint32_t)(v >> 32));
}

static int encode(frame *f, const rs_commit_record *rec)
{
	int rc = 0;

	rc = rc ? rc : put_u32(f, 0); /* the length, filled in below */
	rc = rc ? rc : put_u32(f, rec->kind);
	rc = rc ? rc : put(f, rec->run.bytes, 16);
	rc = rc ? rc : put_u64(f, rec->version);
	rc = rc ? rc : put_u64(f, rec->timestamp_ns);
	rc = rc ? rc : put_u32(f, (uint32_t)rec->nops);
	rc = rc ? rc : put(f, rec->drop_run.bytes, 16);
	rc = rc ? rc : put_u64(f, rec->drop_version);
	for (size_t i = 0; i < rec->nops && !rc; i++) {
		const rs_record_op *op = &rec->ops[i];
		unsigned char tag_del[2] = { op->tag, op->is_delete };

		rc = put(f, tag_del, 2);
		rc = rc ? rc : put_u32(f, (uint32_t)op->key.len);
		rc = rc ? rc : put_u32(f, (uint32_t)op->value.len);
		rc = rc ? rc : put(f, op->key.data, op->key.len);
		if (!rc && op->value.len)
			rc = put(f, op->value.data, op->value.len);
	}
	if (!rc) {
		uint32_t n = (uint32_t)(f->len - 4);

		for (int i = 0; i < 4; i++)
			f->p[i] = (unsigned char)(n >> (8 * i));
	}
	return rc;
}

/* ---- the backend ---- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return RS_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fb_commit(void *ctx, const rs_commit_record *rec)
{
	file_backend *b = ctx;
	frame f = { NULL, 0, 0 };
	int rc = encode(&f, rec);

	if (rc == 0) {
		pthread_mutex_lock(&b->mu);
		rc = write_all(b->fd, f.p, f.len);
		if (rc == 0 && rec->mode == RS_DURABILITY_STRICT &&
		    fdatasync(b->fd) != 0)
			rc = RS_EIO;
		pthread_mutex_unlock(&b->mu);
	}
	free(f.p);
	return rc; /* nonzero: the commit fails and nothing is applied */
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	return get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Decode one frame body (n bytes) and hand it to replay. */
static int replay_frame(const unsigned char *p, size_t n, rs_replay_fn replay,
			void *replay_ctx)
{
	enum {
		HDR = 4 + 16 + 8 + 8 + 4 + 16 + 8
	};
	rs_commit_record rec;
	rs_record_op *ops;
	size_t off = HDR;
	int rc;

	if (n < HDR)
		return RS_ECORRUPT;
	memset(&rec, 0, sizeof(rec));
	rec.kind = get_u32(p);
	memcpy(rec.run.bytes, p + 4, 16);
	rec.version = get_u64(p + 20);
	rec.timestamp_ns = get_u64(p + 28);
	rec.nops = get_u32(p + 36);
	memcpy(rec.drop_run.bytes, p + 40, 16);
	rec.drop_version = get_u64(p + 56);
	if (rec.nops > n / 10 ||
	    !(ops = calloc(rec.nops ? rec.nops : 1, sizeof(*ops))))
		return rec.nops > n / 10 ? RS_ECORRUPT : RS_ENOMEM;
	rc = 0;
	for (size_t i = 0; i < rec.nops && !rc; i++) {
		uint32_t klen, vlen;

		if (n - off < 10) {
			rc = RS_ECORRUPT;
			break;
		}
		ops[i].tag = p[off];
		ops[i].is_delete = p[off + 1] != 0;
		klen = get_u32(p + off + 2);
		vlen = get_u32(p + off + 6);
		off += 10;
		if (n - off < (uint64_t)klen + vlen) {
			rc = RS_ECORRUPT;
			break;
		}
		ops[i].key = (rs_bytes){ p + off, klen };
		ops[i].value = (rs_bytes){ vlen ? p + off + klen : NULL, vlen };
		off += (size_t)klen + vlen;
	}
	rec.ops = ops;
	if (rc == 0)
		rc = replay(&rec, replay_ctx);
	free(ops);
	return rc;
}

static int fb_recover(void *ctx, rs_replay_fn replay, void *replay_ctx)
{
	file_backend *b = ctx;
	struct stat st;
	unsigned char *all;
	size_t off = 0, size;
	int rc = 0;

	if (fstat(b->fd, &st) != 0)
		return RS_EIO;
	size = (size_t)st.st_size;
	if (size == 0)
		return 0;
	if (!(all = malloc(size)))
		return RS_ENOMEM;
	if (pread(b->fd, all, size, 0) != (ssize_t)size) {
		free(all);
		return RS_EIO;
	}
	while (rc == 0 && size - off >= 4) {
		uint32_t n = get_u32(all + off);

		if (size - off - 4 < n)
			break; /* a frame cut short: the end of the log */
		rc = replay_frame(all + off + 4, n, replay, replay_ctx);
		off += 4 + (size_t)n;
	}
	free(all);
	/* Append after the last whole frame (drops a cut-short one). */
	if (rc == 0 && ftruncate(b->fd, (off_t)off) != 0)
		rc = RS_EIO;
	return rc;
}

static int fb_flush(void *ctx)
{
	file_backend *b = ctx;

	return fdatasync(b->fd) == 0 ? 0 : RS_EIO;
}

static void fb_close(void *ctx)
{
	file_backend *b = ctx;

	fdatasync(b->fd);
}

static const rs_durability_ops file_ops = {
	.version = RS_DURABILITY_OPS_VERSION,
	.commit = fb_commit,
	.recover = fb_recover,
	.flush = fb_flush,
	.close = fb_close,
};

/* ---- using it ---- */

static int open_db(file_backend *b, rs_db **db)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = RS_DURABILITY_STRICT; /* passed to commit() */
	o.durability_ops = &file_ops;
	o.durability_ctx = b;
	return rs_db_open(db, &o);
}

int main(int argc, char **argv)
{
	char tmpl[256], buf[32];
	const char *path = argc > 1 ? argv[1] : NULL;
	file_backend b;
	rs_run_id run;
	rs_db *db;
	size_t len;
	uint64_t events = 0, bad;
	bool deleted;
	int rc;

	if (!path) {
		const char *t = getenv("TMPDIR");
		int fd;

		snprintf(tmpl, sizeof(tmpl), "%s/custom_backend.XXXXXX",
			 t && *t ? t : "/tmp");
		if ((fd = mkstemp(tmpl)) < 0)
			return perror("mkstemp"), 1;
		close(fd);
		path = tmpl;
	}
	b.fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (b.fd < 0)
		return perror(path), 1;
	pthread_mutex_init(&b.mu, NULL);
	rs_run_id_parse(&run, "0192f3a4-0000-7000-8000-00000000c0de", 36);

	/* First life: write, then close. */
	if ((rc = open_db(&b, &db)) != 0)
		return fprintf(stderr, "open: %s\n", rs_strerror(rc)), 1;
	for (int i = 0; i < 10; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		rs_kv_put(db, &run, k, strlen(k), "v", 1);
		rs_eventlog_append(db, &run, "put", 3, k, strlen(k), NULL);
	}
	rs_kv_delete(db, &run, "k3", 2, NULL);
	rs_db_close(db);

	/* Second life: everything comes back from the file. */
	if ((rc = open_db(&b, &db)) != 0)
		return fprintf(stderr, "reopen: %s\n", rs_strerror(rc)), 1;
	rc = rs_kv_get(db, &run, "k9", 2, buf, sizeof(buf), &len);
	deleted = rs_kv_get(db, &run, "k3", 2, buf, sizeof(buf), &len) ==
		  RS_ENOTFOUND;
	rs_eventlog_len(db, &run, &events);
	if (rc == 0 && rs_eventlog_verify_chain(db, &run, &bad) != 0)
		rc = -1;
	printf("from %s: k9 %s, k3 %s, %llu events, chain %s\n", path,
	       rc == 0 ? "present" : "missing", deleted ? "deleted" : "present",
	       (unsigned long long)events, rc == 0 ? "verified" : "BAD");
	rs_db_close(db);
	close(b.fd);
	pthread_mutex_destroy(&b.mu);
	if (argc < 2)
		unlink(path);
	return rc == 0 && deleted && events == 10 ? 0 : 1;
}
