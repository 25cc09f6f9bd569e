/*
 * Did-you-mean: restricted Damerau-Levenshtein distance (optimal string
 * alignment) between a word and a short list of candidates, with ASCII
 * case ignored.
 */
#include <stddef.h>
#include <string.h>

#include "suggest.h"

/* Candidates longer than this are never suggested (keys are short). */
#define SUGGEST_MAX_CAND 64

static int
fold(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c + ('a' - 'A');
	return c;
}

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Edit distance between w[0..n) and c[0..m), m <= SUGGEST_MAX_CAND; three
 * rolling rows of the classic table.
 */
static size_t
distance(const char *w, size_t n, const char *c, size_t m)
{
	size_t rows[3][SUGGEST_MAX_CAND + 1];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2], *t;
	size_t i, j;

	for (j = 0; j <= m; j++)
		prev[j] = j;
	for (i = 1; i <= n; i++) {
		int wi = fold((unsigned char)w[i - 1]);

		cur[0] = i;
		for (j = 1; j <= m; j++) {
			int cj = fold((unsigned char)c[j - 1]);
			size_t cost = wi == cj ? 0 : 1;

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
			    prev[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    wi == fold((unsigned char)c[j - 2]) &&
			    fold((unsigned char)w[i - 2]) == cj &&
			    pp[j - 2] + 1 < cur[j])
				cur[j] = pp[j - 2] + 1;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[m];
}

const char *
suggest_word(const char *word, size_t len, const char *const *cands,
    size_t ncands)
{
	size_t limit = len / 3 > 1 ? len / 3 : 1;
	size_t best_d = limit + 1, i;
	const char *best = NULL;

	for (i = 0; i < ncands; i++) {
		size_t m = strlen(cands[i]), d;

		if (m > SUGGEST_MAX_CAND)
			continue;
		/* the distance is at least the difference in length */
		if ((m > len ? m - len : len - m) > limit)
			continue;
		d = distance(word, len, cands[i], m);
		/* d < m: something of the candidate must be in the word */
		if (d < best_d && d < m) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}
