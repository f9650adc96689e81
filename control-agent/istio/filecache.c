/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsed files kept between loads (struct hf_istio_cache): each file's bytes,
 * and the trees its documents became. A load reads every file again
 * (reading and comparing cost little next to parsing); a file whose bytes
 * are the ones kept hands its trees to the load as a fresh parse would, and
 * only the others are parsed. Those are cut at their document markers
 * (docs.c) and kept a tree per piece, each in an arena of its own: a piece
 * whose bytes and first line did not change keeps its tree and its parse
 * number, one that changed is rebuilt from the old tree by re-parsing only
 * the changed items of its longest list (a VirtualService's http routes),
 * or parsed whole. A file that cannot be cut safely, or whose pieces do not
 * all parse, is parsed whole as one (which reports the mistake as it always
 * has). The trees are never written after they are built (every reader
 * takes const struct yn), so loads, and rebuilt trees, may share them.
 *
 * Every document is checked and translated again at every load, because
 * what a resource becomes depends on others (hosts on the namespaces seen,
 * VirtualServices on Gateways, destinations on ServiceEntries and
 * DestinationRule subsets) which may have changed in other files; except a
 * VirtualService's http routes, the bulk of a large configuration: kept
 * here with the context they were made in (gateway.c, vs_context(): every
 * other resource by its parse and tree, and the namespaces), they are lent
 * to the next load (struct hf_model_piece) when its VirtualService's tree
 * and that context are the same, which makes them the same routes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/clock.h"
#include "control-agent/istio/istio-int.h"

#define FILE_CHUNK_MIN (16 * 1024)
#define FILE_CHUNK_MAX (1024 * 1024)

/* One piece of a file split at its document markers (docs.c), and its tree. */
struct ist_cached_doc {
	size_t off, len;		/* its bytes in the file's */
	uint64_t hash;			/* of those bytes */
	unsigned int line0;		/* the file's lines before it: its tree's lines count from there */
	const struct yn *root;		/* NULL: no document, or an empty one */
	unsigned long nodes;
	uint64_t parse;			/* its number (ist_res.parse) */
	struct ist_chunk *arena;	/* its tree (and trees it shares nodes of) */
	struct ist_seqix ix;		/* its longest block sequence */
	size_t *items;			/* ix.n + 1 offsets in its bytes; NULL: not indexed */
	size_t fresh;			/* the bytes of its arena when last parsed whole */
};

struct ist_cached_file {
	const char *path;		/* in its arena */
	char *bytes;			/* what was parsed */
	size_t len;
	struct ist_chunk *arena;	/* the path; parsed whole: the trees too */
	/* parsed whole (the file could not be split safely): one parse for all */
	const struct yn **docs;		/* non-empty documents, in file order */
	unsigned int n_docs;
	/* split: a parse and a tree per piece */
	struct ist_cached_doc *pieces;
	unsigned int n_pieces;
	uint64_t seen;			/* the last load that read it */
	uint64_t parse;			/* its number (ist_res.parse) */
};

/* A VirtualService's http routes as a load translated them (ist_cache_vs_find()). */
struct vs_kept {
	uint64_t parse;			/* its document: the parse and the tree */
	const struct yn *root;
	uint64_t context;		/* st->vs_context of that load */
	struct hf_model_piece *routes;
	uint64_t seen;			/* the last load that asked for it */
};

/* Regexes Hyperscan took, so a reload does not ask again: open addressing, strings malloc'ed. */
#define REGEX_MAX 65536		/* past this many the set starts again empty */

struct regex_set {
	char **slot;
	uint64_t *hash;
	unsigned int n, mask;		/* mask + 1 slots, a power of two; n used */
};

struct hf_istio_cache {
	struct regex_set regexes;
	struct ist_cached_file *files;
	unsigned int n_files;
	unsigned int hint;		/* where the next lookup starts: files come in name order */
	uint64_t load;			/* the load under way (from 1) */
	uint64_t parses;		/* parses made, numbering them */
	struct vs_kept *vs;
	unsigned int n_vs;
};

struct hf_istio_cache *
hf_istio_cache_new(void)
{
	struct hf_istio_cache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->load = 1;
	return c;
}

static void
drop_doc(struct ist_cached_doc *d)
{
	struct ist tmp = {.arena = d->arena};

	ist_arena_free(&tmp);
	free(d->items);
	d->arena = NULL;
	d->items = NULL;
}

static void
drop(struct ist_cached_file *f)
{
	struct ist tmp = {.arena = f->arena};

	ist_arena_free(&tmp);
	free(f->bytes);
	free(f->docs);
	for (unsigned int i = 0; i < f->n_pieces; i++)
		drop_doc(&f->pieces[i]);
	free(f->pieces);
	memset(f, 0, sizeof(*f));
}

static void
regex_set_clear(struct regex_set *r)
{
	for (unsigned int i = 0; r->slot != NULL && i <= r->mask; i++)
		free(r->slot[i]);
	free(r->slot);
	free(r->hash);
	memset(r, 0, sizeof(*r));
}

void
hf_istio_cache_free(struct hf_istio_cache *c)
{
	if (c == NULL)
		return;
	regex_set_clear(&c->regexes);
	for (unsigned int i = 0; i < c->n_files; i++)
		drop(&c->files[i]);
	free(c->files);
	for (unsigned int i = 0; i < c->n_vs; i++)
		hf_model_piece_unref(c->vs[i].routes);
	free(c->vs);
	free(c);
}

static struct ist_cached_file *
find(struct hf_istio_cache *c, const char *path)
{
	for (unsigned int k = 0; k < c->n_files; k++) {
		unsigned int i = (c->hint + k) % c->n_files;

		if (strcmp(c->files[i].path, path) == 0) {
			c->hint = i + 1;
			return &c->files[i];
		}
	}
	return NULL;
}

/* The documents of the file being parsed, recorded on their way to the caller's function. */
struct ist_recording {
	const struct yn **docs;
	unsigned int n_docs;
	int (*doc)(struct ist *st, const char *file, const struct yn *root);
};

static int
record_doc(struct ist *st, const char *file, const struct yn *root)
{
	struct ist_recording *rec = st->recording;
	const struct yn **slot = ist_push(&rec->docs, &rec->n_docs, sizeof(*slot));

	if (slot == NULL)
		return ist_oom(st);
	*slot = root;
	return rec->doc(st, file, root);
}

static void
add_us(uint64_t *to, uint64_t since)
{
	*to += hf_clock_us() - since;
}

/* Parses @p data (@p len bytes of @p file, taken) into an arena of its own, kept in the cache. */
static int
parse_into_cache(struct ist *st, struct ist_cached_file *old, const char *file, char *data,
		 size_t len, int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct hf_istio_cache *c = st->cache;
	struct ist_chunk *outer = st->arena;
	size_t outer_chunk = st->chunk;
	struct ist_recording rec = {.doc = doc};
	struct ist_cached_file *f = old;
	const char *path;
	int rc;

	st->arena = NULL;
	st->chunk = len * 4 < FILE_CHUNK_MIN ? FILE_CHUNK_MIN
		    : len * 4 > FILE_CHUNK_MAX ? FILE_CHUNK_MAX : len * 4;
	/* the resources keep the file's name: it lives as long as its trees */
	path = ist_strdup(st, file);
	st->recording = &rec;
	st->cur_parse = ++c->parses;
	rc = path == NULL ? ist_oom(st) : ist_parse_yaml(st, path, data, len, record_doc);
	st->recording = NULL;
	if (rc == 0 && old == NULL &&
	    (f = ist_push(&c->files, &c->n_files, sizeof(*c->files))) == NULL)
		rc = ist_oom(st);
	if (rc < 0) {
		struct ist_chunk *trees = st->arena;

		/* resources already taken may point into the trees: they go with the load */
		st->arena = outer;
		st->chunk = outer_chunk;
		ist_arena_adopt(st, trees);
		free(rec.docs);
		free(data);
		return rc;
	}
	if (old != NULL)
		drop(old);
	f->path = path;
	f->bytes = data;
	f->len = len;
	f->arena = st->arena;
	f->docs = rec.docs;
	f->n_docs = rec.n_docs;
	f->seen = c->load;
	f->parse = st->cur_parse;
	st->arena = outer;
	st->chunk = outer_chunk;
	if (st->stats != NULL)
		st->stats->files_parsed++;
	return 0;
}

/* Hands the documents of @p f to @p doc, each under its parse's number. */
static int
hand_out(struct ist *st, const struct ist_cached_file *f,
	 int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	int rc;

	for (unsigned int i = 0; i < f->n_pieces; i++) {
		if (f->pieces[i].root == NULL)
			continue;
		st->cur_parse = f->pieces[i].parse;
		st->cur_file = f->path;
		st->cur_kind = NULL;
		rc = doc(st, f->path, f->pieces[i].root);
		if (rc < 0)
			return rc;
	}
	for (unsigned int i = 0; i < f->n_docs; i++) {
		st->cur_parse = f->parse;
		st->cur_file = f->path;
		st->cur_kind = NULL;
		rc = doc(st, f->path, f->docs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* An arena of its own for what comes next, sized for @p len bytes of YAML. */
static void
own_arena(struct ist *st, size_t len)
{
	st->arena = NULL;
	st->chunk = len * 4 < 1024 ? 1024 : len * 4 > FILE_CHUNK_MAX ? FILE_CHUNK_MAX : len * 4;
}

/* What becomes of an old piece in the load under way. */
enum { OLD_FREE, OLD_KEPT, OLD_SHARED };

/* The old piece with @p d's bytes and first line, not yet taken; NULL when none. */
static struct ist_cached_doc *
same_piece(const struct ist_cached_file *old, const char *obytes, const unsigned int *table,
	   unsigned int mask, const char *data, const struct ist_cached_doc *d, const char *fate)
{
	for (unsigned int h = (unsigned int)d->hash & mask; table[h] != 0; h = (h + 1) & mask) {
		struct ist_cached_doc *o = &old->pieces[table[h] - 1];

		if (fate[table[h] - 1] == OLD_FREE && o->hash == d->hash && o->len == d->len &&
		    o->line0 == d->line0 && memcmp(obytes + o->off, data + d->off, d->len) == 0)
			return o;
	}
	return NULL;
}

/*
 * Parses @p data (@p len bytes of @p file, taken when it returns 0) piece
 * by piece (docs.c): a piece whose bytes and first line are those of a
 * piece of @p old keeps its tree and parse; one that changed is rebuilt
 * from the old piece at its place by re-parsing the items that changed, or
 * parsed whole. Nothing is handed out until every piece is parsed, so a
 * failure changes nothing: 1 sends the file to the whole-file parse, which
 * says what is wrong as it always has.
 */
static int
split_into_cache(struct ist *st, struct ist_cached_file *old, const char *file, char *data,
		 size_t len, int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct hf_istio_cache *c = st->cache;
	struct hf_istio_stats none = {0}, *stats = st->stats != NULL ? st->stats : &none;
	struct ist_chunk *outer = st->arena;
	size_t outer_chunk = st->chunk;
	unsigned int n = 0, n_old = old != NULL ? old->n_pieces : 0, mask = 0, *table = NULL;
	unsigned int parsed = 0, spliced = 0;
	struct ist_cached_doc *docs = NULL;
	struct ist_piece *pc = NULL;
	unsigned long nodes = 0;
	char *fate = NULL;
	bool committed = false;
	int *from = NULL;		/* per piece: the old piece it keeps or shares, else -1 */
	const char *path;
	int rc;

	rc = ist_yaml_split(data, len, &pc, &n);
	if (rc != 0) {
		if (rc < 0)
			free(data);
		return rc < 0 ? ist_oom(st) : 1;
	}
	docs = calloc(n, sizeof(*docs));
	from = malloc(sizeof(*from) * n);
	fate = calloc(n_old + 1, 1);
	if (n_old > 0) {
		for (mask = 7; mask < 2 * n_old; mask = mask * 2 + 1)
			;
		table = calloc(mask + 1, sizeof(*table));
	}
	if (docs == NULL || from == NULL || fate == NULL || (n_old > 0 && table == NULL)) {
		rc = ist_oom(st);
		goto out;
	}
	for (unsigned int i = 0; i < n_old; i++) {
		unsigned int h = (unsigned int)old->pieces[i].hash & mask;

		while (table[h] != 0)
			h = (h + 1) & mask;
		table[h] = i + 1;
	}
	/* first the pieces that did not change, wherever they moved */
	for (unsigned int i = 0; i < n; i++) {
		struct ist_cached_doc *d = &docs[i], *o;

		d->off = pc[i].off;
		d->len = pc[i].len;
		d->line0 = pc[i].line0;
		d->hash = ist_bytes_hash(data + d->off, d->len);
		from[i] = -1;
		o = n_old > 0 ? same_piece(old, old->bytes, table, mask, data, d, fate) : NULL;
		if (o != NULL) {
			from[i] = (int)(o - old->pieces);
			fate[from[i]] = OLD_KEPT;
			nodes += o->nodes;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct ist_cached_doc *d = &docs[i], *o = i < n_old ? &old->pieces[i] : NULL;
		struct ist_piece_parse pp;

		if (from[i] >= 0)
			continue;
		own_arena(st, d->len);
		rc = 1;
		/* an old tree that gathered more than it holds (earlier changes) is parsed anew */
		if (o != NULL && fate[i] == OLD_FREE && o->items != NULL && o->line0 == d->line0 &&
		    ist_arena_size(o->arena) < 2 * o->fresh) {
			/* the new items and the path to them: small next to the document */
			st->chunk = 64 * 1024;
			rc = ist_splice(st, file, old->bytes + o->off, o->len, o->root,
					&o->ix, o->items, data + d->off, d->len, &pp, &d->items);
			if (rc == 0) {
				from[i] = (int)i;
				fate[i] = OLD_SHARED;
				d->fresh = o->fresh;
				spliced++;
			}
		}
		if (rc == 1) {
			/* what the splice made, if anything, goes */
			ist_arena_free(st);
			own_arena(st, d->len);
			rc = ist_parse_piece(st, file, data + d->off, d->len, d->line0, &pp);
			/* mistakes are reported by the whole-file parse, in its order */
			if ((rc < 0 && rc != -ENOMEM) || (rc == 0 && pp.n_docs > 1))
				rc = 1;
			if (rc == 0 && pp.root != NULL && !pp.aliases && pp.seq.n > 0) {
				rc = ist_seq_offsets(data + d->off, d->len, d->line0, pp.root,
						     &pp.seq, &d->items);
				rc = rc < 0 ? ist_oom(st) : 0;
			}
			d->fresh = ist_arena_size(st->arena);
			parsed++;
		}
		d->arena = st->arena;
		st->arena = NULL;
		if (rc != 0)
			goto out;
		d->root = pp.root;
		d->nodes = pp.nodes;
		d->ix = pp.seq;
		d->parse = ++c->parses;
		if (d->items == NULL)
			d->ix.n = 0;
		nodes += d->nodes;
	}
	/* the limit is the whole file's: the whole-file parse says where it is passed */
	if (nodes > IST_MAX_NODES) {
		rc = 1;
		goto out;
	}
	st->arena = NULL;
	st->chunk = 256;
	path = ist_strdup(st, file);
	if (path == NULL || (old == NULL &&
			     (old = ist_push(&c->files, &c->n_files, sizeof(*c->files))) == NULL)) {
		rc = ist_oom(st);
		ist_arena_free(st);
		goto out;
	}
	/* committed: the pieces take the old trees they keep or share, the rest go */
	for (unsigned int i = 0; i < n; i++) {
		struct ist_cached_doc *d = &docs[i], *o;

		if (from[i] < 0)
			continue;
		o = &old->pieces[from[i]];
		if (fate[from[i]] == OLD_KEPT) {
			size_t off = d->off;

			*d = *o;
			d->off = off;
		} else {
			struct ist tmp = {.arena = d->arena};

			ist_arena_adopt(&tmp, o->arena);
			d->arena = tmp.arena;
			free(o->items);
		}
		o->arena = NULL;
		o->items = NULL;
	}
	drop(old);
	old->path = path;
	old->arena = st->arena;
	old->bytes = data;
	old->len = len;
	old->pieces = docs;
	old->n_pieces = n;
	old->seen = c->load;
	docs = NULL;
	committed = true;
	stats->files_parsed++;
	stats->docs_parsed += parsed;
	stats->docs_spliced += spliced;
	rc = 0;
out:
	for (unsigned int i = 0; docs != NULL && i < n; i++)
		drop_doc(&docs[i]);
	free(docs);
	free(pc);
	free(from);
	free(fate);
	free(table);
	st->arena = outer;
	st->chunk = outer_chunk;
	if (rc < 0 && !committed)
		free(data);
	if (rc == 0)
		rc = hand_out(st, old, doc);
	return rc;
}

int
ist_read_cached(struct ist *st, const char *file,
		int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct hf_istio_stats none = {0}, *stats = st->stats != NULL ? st->stats : &none;
	uint64_t t0 = hf_clock_us();
	struct ist_cached_file *f = NULL;
	char *data;
	size_t len;
	int rc;

	rc = ist_slurp(st, file, &data, &len);
	if (rc < 0)
		return rc;
	stats->files++;
	if (st->cache != NULL) {
		f = find(st->cache, file);
		if (f != NULL && f->len == len && memcmp(f->bytes, data, len) == 0) {
			free(data);
			f->seen = st->cache->load;
			add_us(&stats->read_us, t0);
			return hand_out(st, f, doc);
		}
	}
	add_us(&stats->read_us, t0);
	t0 = hf_clock_us();
	if (st->cache != NULL) {
		rc = split_into_cache(st, f, file, data, len, doc);
		if (rc == 1)
			rc = parse_into_cache(st, f, file, data, len, doc);
	} else {
		st->cur_parse = 0;
		rc = ist_parse_yaml(st, file, data, len, doc);
		free(data);
		if (rc == 0)
			stats->files_parsed++;
	}
	add_us(&stats->parse_us, t0);
	return rc;
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

bool
ist_cache_regex_known(const struct ist *st, const char *re)
{
	const struct regex_set *r = st->cache != NULL ? &st->cache->regexes : NULL;
	uint64_t h;

	if (r == NULL || r->slot == NULL)
		return false;
	h = fnv1a(re);
	for (unsigned int i = (unsigned int)h & r->mask; r->slot[i] != NULL; i = (i + 1) & r->mask)
		if (r->hash[i] == h && strcmp(r->slot[i], re) == 0)
			return true;
	return false;
}

static void
regex_set_put(struct regex_set *r, char *re, uint64_t h)
{
	unsigned int i = (unsigned int)h & r->mask;

	while (r->slot[i] != NULL)
		i = (i + 1) & r->mask;
	r->slot[i] = re;
	r->hash[i] = h;
	r->n++;
}

void
ist_cache_regex_add(struct ist *st, const char *re)
{
	struct regex_set *r = st->cache != NULL ? &st->cache->regexes : NULL;
	uint64_t h = fnv1a(re);
	char *copy;

	if (r == NULL || ist_cache_regex_known(st, re))
		return;
	if (r->n >= REGEX_MAX)
		regex_set_clear(r);
	/* at most half full */
	if (r->slot == NULL || 2 * (r->n + 1) > r->mask + 1) {
		struct regex_set g = {0};
		unsigned int size = r->slot == NULL ? 1024 : 2 * (r->mask + 1);

		g.slot = calloc(size, sizeof(*g.slot));
		g.hash = calloc(size, sizeof(*g.hash));
		g.mask = size - 1;
		if (g.slot == NULL || g.hash == NULL) {
			/* only a memo: without it the next load asks Hyperscan again */
			regex_set_clear(&g);
			return;
		}
		for (unsigned int i = 0; r->slot != NULL && i <= r->mask; i++)
			if (r->slot[i] != NULL)
				regex_set_put(&g, r->slot[i], r->hash[i]);
		free(r->slot);
		free(r->hash);
		*r = g;
	}
	copy = strdup(re);
	if (copy != NULL)
		regex_set_put(r, copy, h);
}

void
ist_cache_sweep(struct ist *st)
{
	struct hf_istio_cache *c = st->cache;
	unsigned int j = 0;

	if (c == NULL)
		return;
	for (unsigned int i = 0; i < c->n_files; i++) {
		if (c->files[i].seen != c->load)
			drop(&c->files[i]);
		else
			c->files[j++] = c->files[i];
	}
	c->n_files = j;
	c->hint = 0;
	/* the translations the last load asked for (or made) stay; it ran under this load's number */
	j = 0;
	for (unsigned int i = 0; i < c->n_vs; i++) {
		if (c->vs[i].seen != c->load)
			hf_model_piece_unref(c->vs[i].routes);
		else
			c->vs[j++] = c->vs[i];
	}
	c->n_vs = j;
	c->load++;
}

static struct vs_kept *
vs_find(struct hf_istio_cache *c, const struct ist_res *vs)
{
	for (unsigned int i = 0; i < c->n_vs; i++)
		if (c->vs[i].parse == vs->parse && c->vs[i].root == vs->root)
			return &c->vs[i];
	return NULL;
}

struct hf_model_piece *
ist_cache_vs_find(struct ist *st, const struct ist_res *vs)
{
	struct vs_kept *k;

	if (st->cache == NULL || vs->parse == 0 || st->vs_context == 0 ||
	    (k = vs_find(st->cache, vs)) == NULL || k->context != st->vs_context)
		return NULL;
	k->seen = st->cache->load;
	return k->routes;
}

void
ist_cache_vs_put(struct ist *st, const struct ist_res *vs, struct hf_model_piece *p)
{
	struct hf_istio_cache *c = st->cache;
	struct vs_kept *k;

	if (c == NULL || vs->parse == 0 || st->vs_context == 0)
		return;
	k = vs_find(c, vs);
	if (k == NULL && (k = ist_push(&c->vs, &c->n_vs, sizeof(*c->vs))) == NULL)
		return; /* out of memory: translated again next time */
	hf_model_piece_unref(k->routes);
	*k = (struct vs_kept){
		.parse = vs->parse,
		.root = vs->root,
		.context = st->vs_context,
		.routes = hf_model_piece_ref(p),
		.seen = c->load,
	};
}
