/* Running a chunk inside its task: the user's function on each of its
 * items, or once on all of them (cf_map_batches), and the reply that
 * carries their results back (chunk.h). */
#include "map/chunk.h"

#include "core/task.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Results go to a place in the caller's array (struct cf_result_place,
 * core/task.h): cf_map_into's item, or a cf_map_batches chunk's results.
 * A result of exactly the place's size goes there with no copy; one of
 * another size stays in the task, which then fails: the array has room
 * for so many bytes and no more. */

static const void *item_arg(const struct cf_chunk *c, size_t i)
{
	return c->items ? c->items + i * c->item_stride : NULL;
}

/* ---- RECORDS ---- */

/* A RECORDS reply as it grows. */
struct records {
	unsigned char *data;
	size_t len, cap;
};

/* Makes room for `more` bytes at the end (0: a size that overflowed). */
static bool records_grow(struct records *r, size_t more)
{
	size_t need, cap;
	unsigned char *data;

	if (!more || more > SIZE_MAX - r->len)
		return false;
	need = r->len + more;
	for (cap = r->cap ? r->cap : 256; cap < need; cap *= 2)
		if (cap > SIZE_MAX / 2)
			return false;
	data = realloc(r->data, cap);
	if (!data)
		return false;
	r->data = data;
	r->cap = cap;
	return true;
}

/* Room for `more` bytes at the end: a test per item, a call only to grow. */
static inline bool records_reserve(struct records *r, size_t more)
{
	return (more && more <= r->cap - r->len) || records_grow(r, more);
}

/* The item's result, or its error, as the next record. */
static bool add_record(struct records *r, struct cf_task *item)
{
	size_t size;

	if (item->error) {
		size = cf__chunk_error_record_size(item->error);
		if (!records_reserve(r, size))
			return false;
		cf__chunk_put_error_record(r->data + r->len, item->error);
	} else {
		size = cf__chunk_record_size(item->result.size);
		if (!records_reserve(r, size))
			return false;
		cf__chunk_put_record(r->data + r->len, cf__bytes_data(&item->result),
				     item->result.size);
	}
	r->len += size;
	return true;
}

/* cf_map's chunk: a record per item; the first failure ends it. */
static int run_records(cf_task *task, const struct cf_chunk *c)
{
	struct records out = { 0 };
	bool packed = true, failed = false;

	for (size_t i = 0; i < c->count && packed && !failed; i++) {
		struct cf_task item;

		cf__task_init(&item, item_arg(c, i), c->item_size);
		cf__task_run(&item, c->fn);
		failed = item.error != NULL;
		packed = add_record(&out, &item);
		cf__task_clear(&item);
	}
	if (!packed) {
		free(out.data);
		return cf_task_fail(task, CF_NOMEM, "map: out of memory packing results");
	}
	cf__bytes_adopt(&task->result, out.data, out.len);
	return 0;
}

/* ---- DENSE and WHOLE ---- */

/* Ends one call of fn that returned nonzero, failed, or put its result
 * elsewhere than its place: the task fails, saying why. */
static void check_call(struct cf_task *t, int rc, const struct cf_result_place *place,
		       const struct cf_chunk *c)
{
	if (rc != 0 && !t->error)
		cf_task_fail(t, rc, "task returned %d", rc);
	if (t->error || place->filled)
		return;
	if (c->kind == CF_CHUNK_WHOLE)
		cf_task_fail(t, -1, "map_batches: the task returned %zu bytes, not %zu items of result_size %zu",
			     t->result.size, c->count, c->result_size);
	else
		cf_task_fail(t, -1, "map_into: the task returned %zu bytes, not result_size %zu",
			     t->result.size, c->result_size);
}

/* cf_map_into's items, one call each, each result straight into its slot.
 * Returns how many succeeded before the first failure, whose error goes
 * to *error. */
static size_t run_items_into(const struct cf_chunk *c, unsigned char *slot, cf_error *error,
			     bool *failed)
{
	struct cf_result_place place = { .size = c->result_size };
	/* One task for the whole chunk, reset field by field: this loop is
	 * all the library adds to each item's own work. */
	struct cf_task item;
	size_t done;

	cf__task_init(&item, NULL, c->item_size);
	item.place = &place;
	for (done = 0; done < c->count; done++, slot += c->result_size) {
		item.arg = item_arg(c, done);
		place.at = slot;
		place.filled = false;
		int rc = c->fn(&item);

		if (rc == 0 && !item.error && place.filled)
			continue;
		check_call(&item, rc, &place, c);
		if (item.error) {
			*error = *item.error;
			*failed = true;
			break;
		}
	}
	cf__task_clear(&item);
	return done;
}

/* cf_map_batches' chunk: one call for all its items, whose result is all
 * their results.  A failure fails the whole chunk. */
static size_t run_whole(const struct cf_chunk *c, unsigned char *slot, cf_error *error,
			bool *failed)
{
	struct cf_result_place place = { .at = slot, .size = c->count * c->result_size };
	/* No items at all: the chunk's place in the map is its argument. */
	cf_range range = { .first = c->first_index, .count = c->count };
	struct cf_task batch;

	if (c->item_size == 0)
		cf__task_init(&batch, &range, sizeof(range));
	else
		cf__task_init(&batch, c->items, c->count * c->item_size);
	batch.place = &place;
	check_call(&batch, c->fn(&batch), &place, c);
	if (batch.error) {
		*error = *batch.error;
		*failed = true;
	}
	cf__task_clear(&batch);
	return *failed ? 0 : c->count;
}

/* A chunk of cf_map_into or cf_map_batches: results back to back in the
 * reply, or in the caller's array when the chunk runs in place (the reply
 * then says only how it went). */
static int run_dense(cf_task *task, const struct cf_chunk *c)
{
	bool in_reply = c->results == NULL;
	size_t max = cf__chunk_dense_max_size(c->count, c->result_size, in_reply);
	unsigned char *out = max ? malloc(max) : NULL;
	unsigned char *slot;
	cf_error error;
	bool failed = false;
	size_t done, len;

	if (!out)
		return cf_task_fail(task, CF_NOMEM, "map: out of memory for a chunk's results");
	slot = in_reply ? out + CF_CHUNK_DENSE_HEADER_SIZE : c->results;
	if (c->kind == CF_CHUNK_WHOLE)
		done = run_whole(c, slot, &error, &failed);
	else
		done = run_items_into(c, slot, &error, &failed);
	len = cf__chunk_put_dense(out, done, c->result_size, in_reply, failed ? &error : NULL);
	cf__bytes_adopt(&task->result, out, len);
	return 0;
}

static int run_chunk(cf_task *task, const struct cf_chunk *c)
{
	if (c->kind == CF_CHUNK_RECORDS)
		return run_records(task, c);
	return run_dense(task, c);
}

int cf__chunk_run_local(cf_task *task)
{
	struct cf_chunk c;

	/* Made by this very process (window.c): only its size is checked. */
	if (task->arg_size < sizeof(struct cf_chunk_local))
		return cf_task_fail(task, -1, "map: malformed local chunk");
	cf__chunk_get_local(task->arg, &c);
	return run_chunk(task, &c);
}

int cf__chunk_run_remote(cf_task *task)
{
	struct cf_chunk c;
	struct cf_fnref ref;
	enum cf_wire_error e = cf__chunk_get_remote(task->arg, task->arg_size, &c, &ref);

	if (e != CF_WIRE_OK)
		return cf_task_fail(task, -1, "map: malformed chunk: %s", cf_wire_strerror(e));
	c.fn = (cf_fn)cf__fnref_to_fn(&ref);
	if (!c.fn)
		return cf_task_fail(task, -1, "map: the task function is not in this program");
	return run_chunk(task, &c);
}
