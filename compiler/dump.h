/* `boundary-compile --dump`: canonical text of a loaded policy. */
#ifndef DUMP_H
#define DUMP_H

#include <stdio.h>

struct bt;

/* Writes the dump of <bt> to <f>; returns 0, or -1 on an output error. */
int dump_policy(FILE *f, const struct bt *bt);

#endif
