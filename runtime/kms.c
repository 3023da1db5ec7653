/*
 * kms: KMS tag call shapes (kms.h).
 */
#include "kms.h"

#include "kit.h"

cJSON *kms_tag_in(const char *key, const char *tag, const char *value)
{
	cJSON *in = kit_obj("KeyId", key, KIT_END);

	if (!in)
		return NULL;
	if (!value)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "TagKeys"), cJSON_CreateString(tag));
	else
		cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "Tags"),
				     kit_obj("TagKey", tag, "TagValue", value, KIT_END));
	return in;
}

cJSON *kms_tag_undo(const char *step, const char *key, const char *tag, const char *prior)
{
	return kit_undo_step(step, prior ? "kms:TagResource" : "kms:UntagResource", kms_tag_in(key, tag, prior));
}
