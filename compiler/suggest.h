/*
 * Did-you-mean for diagnostics: the candidate closest to a misspelt word.
 */
#ifndef SUGGEST_H
#define SUGGEST_H

#include <stddef.h>

/*
 * Returns the element of <cands> nearest to the <len> bytes at <word> by
 * edit distance (insertions, deletions, substitutions and transpositions of
 * adjacent bytes; ASCII case is ignored), provided the distance is at most
 * max(1, len / 3) and below the candidate's length; otherwise NULL.  Ties
 * go to the earlier candidate.
 * Borrows <word> and <cands>; the result points into <cands>.
 */
const char *suggest_word(const char *word, size_t len,
    const char *const *cands, size_t ncands);

#endif
