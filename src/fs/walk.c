/* walk: recognising a walk and loading ahead of it. */
#include "walk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "workq.h"

#define DIRS	64  /* directories looked at lately (least recently active reused) */
#define RECORDS 128 /* loads queued or made and not yet used or wasted */
#define NONE	SIZE_MAX

struct dir {
	char *key;    /* NULL: a free slot */
	char *parent; /* its parent's key, or NULL */
	unsigned gen;
	struct listing *l; /* its listing as last seen, referenced */
	double last;	   /* its latest activity */
	size_t pos;	   /* the entry last visited (NONE: none yet) */
	size_t next;	   /* the first entry not yet considered for a load */
	unsigned changes;  /* visits that went forward to another entry, in a row */
	unsigned window;   /* 0: not walked */
	unsigned pending;  /* its loads queued or made and not used yet */
};

enum state { QUEUED, LOADING, LOADED };

struct record {
	char *key; /* NULL: a free record */
	int dir;   /* the directory it was loaded for, while dirs[dir].gen == gen */
	unsigned gen;
	enum state state;
	double at; /* when it was loaded */
};

struct walk {
	struct cache *cache;
	struct walk_hooks hooks;
	unsigned max_window;
	struct workq *queue;

	pthread_mutex_t lock;
	struct dir dirs[DIRS];
	unsigned gens;
	struct record records[RECORDS];
	atomic_uint n_records; /* a fast way out of walk_used for most calls */
	struct walk_stats stats;
};

static void load_one(void *arg, const char *key);

struct walk *walk_new(struct cache *cache, const struct walk_hooks *hooks, int max_window)
{
	struct walk *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cache = cache;
	w->hooks = *hooks;
	w->max_window = max_window > 0 ? (unsigned)max_window : 1;
	w->queue = workq_new(max_window, RECORDS, load_one, w);
	if (!w->queue) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->n_records, 0);
	return w;
}

int walk_start(struct walk *w)
{
	return w ? workq_start(w->queue) : 0;
}

void walk_free(struct walk *w)
{
	if (!w)
		return;
	workq_free(w->queue);
	for (int i = 0; i < DIRS; i++) {
		free(w->dirs[i].key);
		free(w->dirs[i].parent);
		listing_unref(w->dirs[i].l);
	}
	for (int i = 0; i < RECORDS; i++)
		free(w->records[i].key);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- directories (lock held) ---- */

static struct dir *dir_find(struct walk *w, const char *key, double now)
{
	for (int i = 0; i < DIRS; i++) {
		struct dir *d = &w->dirs[i];
		if (d->key && strcmp(d->key, key) == 0)
			return now - d->last <= WALK_GAP ? d : NULL;
	}
	return NULL;
}

/* A fresh state for key, in its old slot or the least recently active one. */
static struct dir *dir_new(struct walk *w, const char *key, const char *parent, struct listing *l,
			   double now)
{
	struct dir *d = &w->dirs[0];
	for (int i = 0; i < DIRS; i++) {
		struct dir *c = &w->dirs[i];
		if (c->key && strcmp(c->key, key) == 0) {
			d = c;
			break;
		}
		if (!c->key || c->last < d->last)
			d = c;
	}
	char *copy = strdup(key), *up = parent ? strdup(parent) : NULL;
	if (!copy || (parent && !up)) {
		free(copy);
		return NULL;
	}
	free(d->key);
	free(d->parent);
	listing_unref(d->l);
	*d = (struct dir){.key = copy,
			  .parent = up,
			  .gen = ++w->gens,
			  .l = listing_ref(l),
			  .last = now,
			  .pos = NONE};
	return d;
}

static void dir_set_listing(struct dir *d, struct listing *l)
{
	if (l && l != d->l) {
		listing_unref(d->l);
		d->l = listing_ref(l);
	}
}

static struct dir *owner_of(struct walk *w, const struct record *r)
{
	struct dir *d = &w->dirs[r->dir];
	return d->key && d->gen == r->gen ? d : NULL;
}

/* ---- records (lock held) ---- */

static struct record *record_find(struct walk *w, const char *key)
{
	for (int i = 0; i < RECORDS; i++)
		if (w->records[i].key && strcmp(w->records[i].key, key) == 0)
			return &w->records[i];
	return NULL;
}

static void record_drop(struct walk *w, struct record *r)
{
	struct dir *d = owner_of(w, r);
	if (d && d->pending)
		d->pending--;
	free(r->key);
	r->key = NULL;
	atomic_fetch_sub(&w->n_records, 1);
}

static bool record_add(struct walk *w, struct dir *d, const char *key)
{
	for (int i = 0; i < RECORDS; i++) {
		struct record *r = &w->records[i];
		if (r->key)
			continue;
		if (!(r->key = strdup(key)))
			return false;
		r->dir = (int)(d - w->dirs);
		r->gen = d->gen;
		r->state = QUEUED;
		d->pending++;
		atomic_fetch_add(&w->n_records, 1);
		return true;
	}
	return false;
}

/* Loads not used within cache_ttl are waste. */
static void sweep(struct walk *w, double now)
{
	double ttl = cache_ttl(w->cache);
	for (int i = 0; i < RECORDS; i++) {
		struct record *r = &w->records[i];
		if (r->key && r->state == LOADED && now - r->at > ttl) {
			w->stats.waste++;
			record_drop(w, r);
		}
	}
}

/* A walked directory's window: its own, or the walk's above it if that grew wider. */
static unsigned window_of(struct walk *w, const struct dir *d, double now)
{
	unsigned window = d->window;
	const struct dir *up = d;
	for (int depth = 0; window && up && up->parent && depth < 8; depth++) {
		up = dir_find(w, up->parent, now);
		if (up && up->window > window)
			window = up->window;
	}
	return window;
}

/* Queue loads for d's next subdirectories while it has fewer unused than its window. */
static void top_up(struct walk *w, struct dir *d)
{
	char key[400];
	unsigned window = window_of(w, d, d->last);
	if (!window || !d->l)
		return;
	size_t i = d->pos != NONE && d->pos > d->next ? d->pos : d->next;
	for (; i < d->l->n && d->pending < window; i++) {
		if (!w->hooks.child_key(d->key, &d->l->entries[i], key, sizeof(key)))
			return;
		if (record_find(w, key) || cache_is_fresh(w->cache, key))
			continue;
		if (!record_add(w, d, key))
			break;
		if (!workq_push(w->queue, key)) {
			record_drop(w, record_find(w, key));
			break;
		}
	}
	d->next = i;
}

/*
 * One of d's loads was used: the walk goes on, its window doubles, and so
 * does that of the directories it went through (the same walk).
 */
static void grow(struct walk *w, struct dir *d, double now)
{
	unsigned window = d->window * 2 > w->max_window ? w->max_window : d->window * 2;
	struct dir *top = d;
	for (int depth = 0; d && depth < 8; depth++) {
		if (d->window && d->window < window)
			d->window = window;
		top = d;
		d = d->parent ? dir_find(w, d->parent, now) : NULL;
	}
	for (int i = 0; i < DIRS; i++) { /* the walk's every directory, as wide */
		struct dir *c = &w->dirs[i];
		if (!c->key || !c->window || now - c->last > WALK_GAP)
			continue;
		const struct dir *up = c;
		for (int depth = 0; up && up != top && depth < 8; depth++)
			up = up->parent ? dir_find(w, up->parent, now) : NULL;
		if (up == top)
			top_up(w, c);
	}
}

/*
 * d is walked: and so is the directory the user listed and went into d
 * from (a walk of d alone would not have gone through its parent first).
 */
static void start(struct walk *w, struct dir *d, double now)
{
	d->window = WALK_FIRST;
	struct dir *parent = d->parent ? dir_find(w, d->parent, now) : NULL;
	if (parent && !parent->window && parent->pos != NONE && parent->l &&
	    parent->pos < parent->l->n) {
		parent->window = WALK_FIRST;
		top_up(w, parent);
	}
}

/* ---- events ---- */

void walk_listed(struct walk *w, const char *dir_key, const char *parent_key, struct listing *l)
{
	double now = clock_now();
	if (!w || !l || !w->hooks.child_key(dir_key, NULL, NULL, 0))
		return;
	pthread_mutex_lock(&w->lock);
	sweep(w, now);
	struct dir *d = dir_find(w, dir_key, now);
	if (d) {
		d->last = now;
		dir_set_listing(d, l);
	} else if ((d = dir_new(w, dir_key, parent_key, l, now))) {
		struct dir *parent = parent_key ? dir_find(w, parent_key, now) : NULL;
		if (parent && parent->window) /* the walk goes on down */
			d->window = parent->window;
	}
	if (d)
		top_up(w, d);
	pthread_mutex_unlock(&w->lock);
}

void walk_visited(struct walk *w, const char *dir_key, struct listing *l, size_t index)
{
	double now = clock_now();
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	struct dir *d = dir_find(w, dir_key, now);
	if (d) { /* a directory nobody listed is not walked */
		d->last = now;
		dir_set_listing(d, l);
		if (index != d->pos) { /* a walk goes forward, as readdir gave them */
			d->changes = d->pos != NONE && index > d->pos ? d->changes + 1 : 0;
			d->pos = index;
		}
		if (!d->window && d->changes > 0)
			start(w, d, now); /* two of its subdirectories: a walk */
		top_up(w, d);
	}
	pthread_mutex_unlock(&w->lock);
}

void walk_used(struct walk *w, const char *key)
{
	if (!w || atomic_load(&w->n_records) == 0)
		return;
	double now = clock_now();
	pthread_mutex_lock(&w->lock);
	struct record *r = record_find(w, key);
	if (r) {
		struct dir *d = owner_of(w, r);
		bool late = r->state == LOADED && now - r->at > cache_ttl(w->cache);
		if (late)
			w->stats.waste++;
		else if (r->state != QUEUED) /* queued: the user's call came first */
			w->stats.hits++;
		record_drop(w, r);
		if (d && !late) {
			d->last = now;
			grow(w, d, now);
		}
	}
	pthread_mutex_unlock(&w->lock);
}

void walk_stats(struct walk *w, struct walk_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	sweep(w, clock_now());
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}

/* ---- the workers ---- */

/* Whether key is still wanted and may be loaded now; marks it loading. */
static bool begin(struct walk *w, const char *key)
{
	pthread_mutex_lock(&w->lock);
	struct record *r = record_find(w, key);
	bool go = r && r->state == QUEUED;
	if (go && (cache_is_fresh(w->cache, key) || !w->hooks.may_load(w->hooks.ctx, key))) {
		record_drop(w, r); /* loaded by a user meanwhile, or background yields */
		go = false;
	}
	if (go)
		r->state = LOADING;
	pthread_mutex_unlock(&w->lock);
	return go;
}

/* key was loaded for a walk: count it, and walk it in turn when it is a directory. */
static void end(struct walk *w, const char *key, int rc)
{
	double now = clock_now();
	struct listing *l = rc ? NULL : cache_peek(w->cache, key);
	pthread_mutex_lock(&w->lock);
	struct record *r = record_find(w, key);
	struct dir *parent = r ? owner_of(w, r) : NULL;
	if (rc == 0)
		w->stats.loads++;
	if (r && rc) {
		record_drop(w, r);
	} else if (r) {
		r->state = LOADED;
		r->at = now;
	}
	if (l && parent && parent->window && w->hooks.child_key(key, NULL, NULL, 0)) {
		struct dir *d = dir_find(w, key, now);
		if (!d && (d = dir_new(w, key, parent->key, l, now)))
			d->window = parent->window; /* the walk goes on down, as wide */
		if (d)
			top_up(w, d);
	}
	pthread_mutex_unlock(&w->lock);
	listing_unref(l);
}

static void load_one(void *arg, const char *key)
{
	struct walk *w = arg;
	if (begin(w, key))
		end(w, key, cache_refresh(w->cache, key, w->hooks.loader, w->hooks.ctx));
}
