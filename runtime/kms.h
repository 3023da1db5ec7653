/*
 * kms: the shapes of KMS's tag calls (issue 17, w5-cut-a: out of
 * kms-guard, where they were the only KMS wire format written by hand).
 * Prefix kms_. Pure: builds request inputs and restore[] entries, no I/O.
 *
 * TagResource takes {KeyId, Tags: [{TagKey, TagValue}]}, UntagResource
 * {KeyId, TagKeys: [key]} (AWS KMS API Reference); firebreak-restore's
 * inverse calls read the same shapes back (its FR_KMS_TAG / FR_KMS_UNTAG).
 */
#ifndef FB_KMS_H
#define FB_KMS_H

#include <cjson/cJSON.h>

/* The input of a write of one tag on key `key` (id or ARN; strings
 * borrowed): TagResource setting tag = value, or with value NULL
 * UntagResource removing it. Caller owns it (kit_spec.in takes it); NULL
 * when out of memory. */
cJSON *kms_tag_in(const char *key, const char *tag, const char *value);

/* The restore[] entry of a write of tag `tag` on `key` whose value before
 * was `prior` (NULL: the tag was absent): kms:TagResource putting prior
 * back, or kms:UntagResource. With step (may be NULL) as kit_undo_step
 * names it, for an undo record written before the write. Caller owns it;
 * NULL when out of memory. */
cJSON *kms_tag_undo(const char *step, const char *key, const char *tag, const char *prior);

#endif
