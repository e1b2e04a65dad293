/* scaffold.h - `streamhost new KIND NAME` (scaffold.c). */
#ifndef SH_SCAFFOLD_H
#define SH_SCAFFOLD_H
/* argv: KIND NAME.  Writes the folder NAME/ in the current directory;
 * returns the exit code (0, 1 on a write error, 2 on a usage error). */
int scaffold_new(int argc, char **argv);
#endif
