/*
 * test_kit_strs: the w5-cut-b block of kit.h: kit_add_strs (kit_obj's
 * string members onto an object that already has members) and kit_slot
 * (a zeroed element of a growable array). leak-rotate's report parts and
 * watched set, and root-verify's report, use them; these pin the contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kit.h"

static void test_kit_strs__members_in_order_nulls_left_out(void **st)
{
	cJSON *o = cJSON_CreateObject();
	char *txt;

	(void)st;
	cJSON_AddNumberToObject(o, "hits", 2);
	kit_add_strs(o, "a", "1", "gone", (const char *)NULL, "b", "", KIT_END);
	kit_add_strs(o, KIT_END);
	kit_add_strs(NULL, "a", "1", KIT_END);   /* nothing to add to: nothing done */
	txt = cJSON_PrintUnformatted(o);
	assert_string_equal(txt, "{\"hits\":2,\"a\":\"1\",\"b\":\"\"}");
	cJSON_free(txt);
	cJSON_Delete(o);
}

struct rec {
	char name[8];
	int n;
};

static void test_kit_strs__slot_is_zeroed_and_the_array_grows(void **st)
{
	struct rec *v = NULL, *r;
	size_t n = 0, cap = 0, i;

	(void)st;
	for (i = 0; i < 40; i++) {
		r = kit_slot(&v, n, &cap, sizeof(*v), 4);
		assert_non_null(r);
		assert_ptr_equal(r, &v[n]);
		assert_int_equal(r->n, 0);
		assert_int_equal(r->name[0], '\0');
		r->n = (int)i + 1;
		memset(r->name, 'x', sizeof(r->name) - 1);
		n++;
	}
	assert_true(cap >= 40);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].n, (int)i + 1);
	/* a slot not counted in is handed out again, zeroed */
	r = kit_slot(&v, n, &cap, sizeof(*v), 4);
	r->n = 99;
	r = kit_slot(&v, n, &cap, sizeof(*v), 4);
	assert_int_equal(r->n, 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit_strs__members_in_order_nulls_left_out),
		cmocka_unit_test(test_kit_strs__slot_is_zeroed_and_the_array_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
