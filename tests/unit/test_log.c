/* Unit tests of runtime/log.c: JSON vs text lines, level filtering, the
 * request id on every line. Output goes to a tmpfile via log_configure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "log.h"

struct sink {
	FILE *f;
	char text[65536];
	size_t len;
};

static int setup(void **st)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->f = tmpfile();
	if (!s->f) {
		free(s);
		return -1;
	}
	log_set_request_id(NULL);
	*st = s;
	return 0;
}

static int teardown(void **st)
{
	struct sink *s = *st;

	log_configure(NULL, 0, LOG_INFO);
	log_set_request_id(NULL);
	fclose(s->f);
	free(s);
	return 0;
}

/* Reads everything logged so far into s->text. */
static const char *slurp(struct sink *s)
{
	fflush(s->f);
	rewind(s->f);
	s->len = fread(s->text, 1, sizeof(s->text) - 1, s->f);
	s->text[s->len] = '\0';
	return s->text;
}

static size_t count_lines(const char *t)
{
	size_t n = 0;

	for (; *t; t++)
		n += *t == '\n';
	return n;
}

static void test_log__json_line_fields(void **st)
{
	struct sink *s = *st;
	cJSON *o;
	const char *ts;

	log_configure(s->f, 1, LOG_INFO);
	log_set_request_id("req-1");
	log_info("hello %s \"q\" %d", "world", 7);
	slurp(s);
	assert_int_equal(count_lines(s->text), 1);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "level")), "INFO");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "message")),
			    "hello world \"q\" 7");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "requestId")),
			    "req-1");
	ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "timestamp"));
	assert_non_null(ts);
	/* 2024-01-02T03:04:05.678Z */
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	cJSON_Delete(o);
}

static void test_log__json_message_with_newline_stays_one_line(void **st)
{
	struct sink *s = *st;
	cJSON *o;

	log_configure(s->f, 1, LOG_INFO);
	log_warn("two\nlines");
	slurp(s);
	assert_int_equal(count_lines(s->text), 1);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "message")),
			    "two\nlines");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "level")), "WARN");
	cJSON_Delete(o);
}

static void test_log__text_line_shape(void **st)
{
	struct sink *s = *st;
	char *tab1, *tab2, *tab3;

	log_configure(s->f, 0, LOG_INFO);
	log_set_request_id("req-2");
	log_error("boom\nagain");
	slurp(s);
	assert_int_equal(count_lines(s->text), 1);
	tab1 = strchr(s->text, '\t');
	assert_non_null(tab1);
	assert_int_equal(tab1 - s->text, 24);
	tab2 = strchr(tab1 + 1, '\t');
	assert_non_null(tab2);
	assert_true(strncmp(tab1 + 1, "req-2\t", 6) == 0);
	tab3 = strchr(tab2 + 1, '\t');
	assert_non_null(tab3);
	assert_true(strncmp(tab2 + 1, "ERROR\t", 6) == 0);
	assert_string_equal(tab3 + 1, "boom\ragain\n");
}

/* Table: configured minimum x message level -> emitted or not. */
static void test_log__level_filtering(void **st)
{
	struct sink *s = *st;
	enum log_level min, lvl;
	size_t want = 0;

	for (min = LOG_TRACE; min <= LOG_FATAL; min++) {
		for (lvl = LOG_TRACE; lvl <= LOG_FATAL; lvl++) {
			log_configure(s->f, 1, min);
			assert_int_equal(log_enabled(lvl), lvl >= min);
			log_msg(lvl, "m");
			want += lvl >= min;
		}
	}
	slurp(s);
	assert_int_equal(count_lines(s->text), want);
}

static void test_log__request_id_on_every_line(void **st)
{
	struct sink *s = *st;
	char *line, *save = NULL;
	int n = 0;

	log_configure(s->f, 1, LOG_DEBUG);
	log_set_request_id("rid-42");
	log_debug("a");
	log_info("b");
	log_json(LOG_WARN, "{\"report\":{\"x\":1}}");
	log_error("c");
	slurp(s);
	for (line = strtok_r(s->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);

		assert_non_null(o);
		assert_string_equal(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "requestId")), "rid-42");
		cJSON_Delete(o);
		n++;
	}
	assert_int_equal(n, 4);
}

static void test_log__cleared_request_id(void **st)
{
	struct sink *s = *st;
	cJSON *o;

	log_configure(s->f, 1, LOG_INFO);
	log_set_request_id("gone");
	log_set_request_id(NULL);
	log_info("init");
	slurp(s);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "requestId"));
	cJSON_Delete(o);
}

static void test_log__json_object_merged(void **st)
{
	struct sink *s = *st;
	cJSON *o;

	log_configure(s->f, 1, LOG_INFO);
	log_set_request_id("r");
	log_json(LOG_INFO, "{\n  \"incident_id\": \"fb-1\",\n  \"level\": \"CUSTOM\"\n}");
	slurp(s);
	assert_int_equal(count_lines(s->text), 1);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "incident_id")),
			    "fb-1");
	/* the caller's own field wins */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "level")),
			    "CUSTOM");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "requestId")),
			    "r");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "timestamp"));
	cJSON_Delete(o);
}

static void test_log__json_object_text_mode_as_is(void **st)
{
	struct sink *s = *st;

	log_configure(s->f, 0, LOG_INFO);
	log_set_request_id("r");
	log_json(LOG_INFO, "{\"a\": 1}");
	log_json(LOG_DEBUG, "{\"filtered\": true}");
	slurp(s);
	assert_string_equal(s->text, "{\"a\":1}\n");
}

/* log_init_from_env changes format and level but keeps the output. */
static void test_log__init_from_env(void **st)
{
	struct sink *s = *st;
	cJSON *o;

	log_configure(s->f, 0, LOG_TRACE);
	setenv("AWS_LAMBDA_LOG_FORMAT", "JSON", 1);
	setenv("AWS_LAMBDA_LOG_LEVEL", "warn", 1);
	log_init_from_env();
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	log_warn("as json");
	slurp(s);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "level")), "WARN");
	cJSON_Delete(o);

	unsetenv("AWS_LAMBDA_LOG_FORMAT");
	setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR", 1);
	log_init_from_env();
	assert_false(log_enabled(LOG_WARN));
	log_error("text now");
	slurp(s);
	assert_non_null(strstr(s->text, "\tERROR\ttext now\n"));

	/* unknown and missing values fall back to INFO */
	setenv("AWS_LAMBDA_LOG_LEVEL", "nonsense", 1);
	log_init_from_env();
	assert_true(log_enabled(LOG_INFO));
	assert_false(log_enabled(LOG_DEBUG));
	unsetenv("AWS_LAMBDA_LOG_LEVEL");
	log_init_from_env();
	assert_true(log_enabled(LOG_INFO));
	assert_false(log_enabled(LOG_DEBUG));
}

static void test_log__long_message_kept(void **st)
{
	struct sink *s = *st;
	char big[5000];
	cJSON *o;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_configure(s->f, 1, LOG_INFO);
	log_info("%s", big);
	slurp(s);
	o = cJSON_Parse(s->text);
	assert_non_null(o);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "message")), big);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log__json_line_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__json_message_with_newline_stays_one_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__text_line_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__level_filtering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__request_id_on_every_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__cleared_request_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__json_object_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__json_object_text_mode_as_is, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__init_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log__long_message_kept, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
