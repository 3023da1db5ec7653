/*
 * driver: a standalone main for the fuzz targets when libFuzzer's runtime is
 * not available (replay only): each argument is a file or a directory of
 * files, each run once through LLVMFuzzerTestOneInput. Built with
 * -fsanitize=address,undefined, so a bad input still aborts with a report.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			d = realloc(d, cap);
			if (!d)
				abort();
		}
		r = fread(d + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	/* exact-size copy so ASan sees reads past the end */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact)
		abort();
	if (n)
		memcpy(exact, d, n);
	free(d);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	char sub[4096];
	int bad = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	dir = opendir(path);
	if (!dir) {
		perror(path);
		return 1;
	}
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		bad |= run_path(sub, count);
	}
	closedir(dir);
	return bad;
}

int main(int argc, char **argv)
{
	int i, bad = 0, count = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* libFuzzer flags such as -runs=0 */
		bad |= run_path(argv[i], &count);
	}
	printf("driver: %d inputs replayed\n", count);
	return bad;
}
