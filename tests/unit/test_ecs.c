/*
 * Unit tests for runtime/ecs.{c,h}: a DescribeTasks element and its task
 * definition (moved out of task-quarantine with the code, issue 17; the
 * exemption and tag-source cases stay in test_task_quarantine.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ecs.h"

static cJSON *J(const char *s)
{
	cJSON *j = cJSON_Parse(s);

	assert_non_null(j);
	return j;
}

/* The members kept, the service from the group, the ENI attachment's
 * details, the containers and their logs from the task definition (one it
 * does not define has none); no taskArn is not a task. */
static void test_ecs__task_and_taskdef(void **st)
{
	cJSON *t = J("{\"taskArn\":\"arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef\","
		     "\"lastStatus\":\"RUNNING\",\"group\":\"service:api\",\"launchType\":\"FARGATE\","
		     "\"attachments\":[{\"type\":\"Other\",\"details\":[{\"name\":\"networkInterfaceId\",\"value\":\"eni-x\"}]},"
		     "{\"type\":\"ElasticNetworkInterface\",\"details\":[{\"name\":\"subnetId\",\"value\":\"subnet-1\"},"
		     "{\"name\":\"networkInterfaceId\",\"value\":\"eni-1\"},{\"name\":\"privateIPv4Address\",\"value\":\"10.0.0.5\"}]}],"
		     "\"containers\":[{\"name\":\"api\",\"image\":\"img:1\",\"imageDigest\":\"sha256:ab\",\"runtimeId\":\"r1\"},"
		     "{\"name\":\"side\"}]}");
	cJSON *td = J("{\"networkMode\":\"awsvpc\",\"containerDefinitions\":[{\"name\":\"api\",\"logConfiguration\":"
		      "{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/api\",\"awslogs-stream-prefix\":\"ecs\"}}}]}");
	struct ecs_task task;

	(void)st;
	assert_int_equal(ecs_task_from_json(t, &task), FB_OK);
	assert_string_equal(task.id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(task.last_status, "RUNNING");
	assert_string_equal(task.launch_type, "FARGATE");
	assert_string_equal(task.service, "api");
	assert_string_equal(task.eni, "eni-1");
	assert_string_equal(task.subnet, "subnet-1");
	assert_string_equal(task.private_ip, "10.0.0.5");
	assert_int_equal(task.nc, 2);
	assert_string_equal(task.c[0].digest, "sha256:ab");
	assert_string_equal(task.c[1].image, "");
	ecs_task_apply_taskdef(&task, td, "eu-west-1");
	assert_string_equal(task.network_mode, "awsvpc");
	assert_int_equal(task.c[0].log.state, CWL_LOG_AWSLOGS);
	assert_string_equal(task.c[0].log.stream, "ecs/api/0123456789abcdef0123456789abcdef");
	assert_int_equal(task.c[1].log.state, CWL_LOG_NONE);
	cJSON_DeleteItemFromObject(t, "taskArn");
	assert_int_equal(ecs_task_from_json(t, &task), FB_E_PARSE);
	cJSON_Delete(t);
	cJSON_Delete(td);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecs__task_and_taskdef),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
