/*
 * queue.c - the commands a client has sent and the server not yet
 * answered, in order. Each reply takes the head once, at its last line.
 *
 * The ring starts at QUEUE_MIN entries and doubles up to QUEUE_MAX; past
 * that, up to LOST_MAX commands keep their verb only (no argument), and
 * past that they are only counted in `lost` and pop as SMTP_CMD_LOST, so
 * pairing stays in step whatever the client pipelines. Order is FIFO
 * across the three: v, then verbs, then lost.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

static bool
q_grow(struct queue *q)
{
	struct pending *nv;
	uint16_t ncap, i;

	if (q->cap >= QUEUE_MAX)
		return false;
	ncap = q->cap ? q->cap * 2 : QUEUE_MIN;
	if (ncap > QUEUE_MAX)
		ncap = QUEUE_MAX;
	if ((nv = malloc(ncap * sizeof(*nv))) == NULL)
		return false;
	/* Linearise so the ring starts at 0 again. */
	for (i = 0; i < q->len; i++)
		nv[i] = q->v[(q->head + i) % q->cap];
	free(q->v);
	q->v = nv;
	q->cap = ncap;
	q->head = 0;
	return true;
}

/*
 * Appends a command. Returns false when it could only be counted as lost;
 * *overflowed is set when this push started a run of lost commands.
 */
bool
smtp_q_push(struct queue *q, enum smtp_cmd cmd, unsigned flags,
    const char *arg, size_t arg_len, bool *overflowed)
{
	struct pending *p;

	*overflowed = false;
	/* Once one overflows, later ones queue behind it: order is kept. */
	if (q->vlen > 0 || q->lost > 0 ||
	    (q->len == q->cap && !q_grow(q))) {
		*overflowed = q->vlen == 0 && q->lost == 0;
		if (q->lost == 0 && q->vlen < LOST_MAX && (q->verbs != NULL ||
		    (q->verbs = malloc(LOST_MAX)) != NULL)) {
			q->verbs[(q->vhead + q->vlen) % LOST_MAX] =
			    (uint8_t)cmd;
			q->vlen++;
		} else if (q->lost < UINT32_MAX) {
			q->lost++;
		}
		return false;
	}
	p = &q->v[(q->head + q->len) % q->cap];
	q->len++;
	p->cmd = (uint8_t)cmd;
	p->flags = (uint8_t)flags;
	if (arg_len > ARG_MAX)
		arg_len = ARG_MAX;
	memcpy(p->arg, arg, arg_len);
	p->arg[arg_len] = '\0';
	p->arg_len = (uint8_t)arg_len;
	return true;
}

/* Takes the head into *out. Returns false when nothing is pending. */
bool
smtp_q_pop(struct queue *q, struct pending *out)
{
	if (q->len == 0) {
		memset(out, 0, sizeof(*out));
		if (q->vlen > 0) {
			out->cmd = q->verbs[q->vhead];
			q->vhead = (uint16_t)((q->vhead + 1) % LOST_MAX);
			q->vlen--;
			return true;
		}
		if (q->lost == 0)
			return false;
		q->lost--;
		out->cmd = SMTP_CMD_LOST;
		return true;
	}
	*out = q->v[q->head];
	smtp_q_drop_head(q);
	return true;
}

/* Entry i from the head, or NULL past the stored ones. */
struct pending *
smtp_q_at(struct queue *q, size_t i)
{
	if (i >= q->len)
		return NULL;
	return &q->v[(q->head + i) % q->cap];
}

void
smtp_q_drop_head(struct queue *q)
{
	if (q->len == 0)
		return;
	q->head = (uint16_t)((q->head + 1) % q->cap);
	q->len--;
}

void
smtp_q_clear(struct queue *q)
{
	q->head = 0;
	q->len = 0;
	q->vhead = 0;
	q->vlen = 0;
	q->lost = 0;
}

void
smtp_q_free(struct queue *q)
{
	free(q->v);
	free(q->verbs);
	memset(q, 0, sizeof(*q));
}
