/*
 * public-lock: close an S3 bucket made public (issue 19). The pure stages
 * (stages.c, unit-tested in tests/unit/test_public_lock.c without AWS);
 * main.c runs them around the kit's rounds. README.md has the decisions.
 *
 * Prefix pl_. Every decision reads the bucket's real state (policy status,
 * ACL, the bucket's and the account's block settings), never the event's
 * claims: the event only says which bucket (or account) to look at.
 */
#ifndef FB_PUBLIC_LOCK_H
#define FB_PUBLIC_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"
#include "resp.h"

#define PL_MAX_BUCKETS 10          /* buckets one Security Hub event may name */
#define PL_TAG_PUBLIC_OK "firebreak:public-ok"

/* The four settings, in the model's (and the wire's) order. */
enum pl_setting { PL_BLOCK_ACLS, PL_IGNORE_ACLS, PL_BLOCK_POLICY, PL_RESTRICT_BUCKETS, PL_NSETTINGS };
extern const char *const pl_setting_names[PL_NSETTINGS];

enum pl_source { PL_SRC_CLOUDTRAIL, PL_SRC_SECURITYHUB, PL_SRC_MANUAL };
enum pl_scope { PL_SCOPE_BUCKET, PL_SCOPE_ACCOUNT };

struct pl_event {
	cJSON *root;               /* owned: the parsed event */
	enum pl_source source;
	enum pl_scope scope;
	char buckets[PL_MAX_BUCKETS][64];
	size_t nbuckets;
	char account[16];          /* whose bucket / block: envelope, finding or manual; "" unknown */
	char region[32];           /* where the bucket is (S3 answers a request to another
				    * region's endpoint with a redirect): the record's
				    * awsRegion, the finding resource's Region, manual
				    * "region"; "" = the function's own */
	char event_name[64];       /* CloudTrail eventName */
	char event_id[128];        /* CloudTrail eventID ("" when not a CloudTrail record) */
	char actor[512];           /* userIdentity.arn ("" unknown) */
	char control[16];          /* Security Hub control id ("S3.8") */
	int64_t event_ms;          /* eventTime / finding UpdatedAt; 0 unknown */
	/* Nothing to do, decided from the event alone (zero calls): why. */
	char skip[240];
};

/* Parses the trigger: an EventBridge CloudTrail record (source aws.s3),
 * a "Security Hub Findings - Imported" event, or the manual form
 * {"bucket": "name"} / {"account": "123456789012"} (plus "region", "dryRun").
 * FB_E_INVALID with `why` for anything else: bad JSON, an unknown shape,
 * a bucket name S3 would refuse, an account that is not 12 digits. An
 * event that is understood but asks for nothing (a PutBucketPublicAccessBlock
 * that turns every setting on, a PASSED or resolved finding, another
 * control) is FB_OK with ev->skip set. Caller cleans up with pl_event_cleanup. */
enum fb_err pl_parse(const char *event, size_t len, struct pl_event *ev, char *why, size_t whylen);
void pl_event_cleanup(struct pl_event *ev);

/* S3's bucket naming rules (general purpose buckets): 3..63 of [a-z0-9.-],
 * starting and ending with a letter or digit, no "..", not an IPv4 address,
 * not the reserved xn--/sthree-/amzn-s3-demo- prefixes nor -s3alias /
 * --ol-s3 / --x-s3 suffixes. */
int pl_bucket_name_ok(const char *b);

/* A block configuration as read (GetPublicAccessBlock answer: strings
 * "true"/"false", or booleans) or to write. */
struct pl_block {
	int present;               /* 0: there is none (NoSuchPublicAccessBlockConfiguration) */
	int on[PL_NSETTINGS];
};
/* From an answer (the document: {"BlockPublicAcls": "true", ...}; an
 * answer wrapping it in "PublicAccessBlockConfiguration" is read too).
 * A missing member is off (S3 writes all four; an old one may lack some).
 * 0 when a member holds anything but true/false: the read does not do. */
int pl_block_from_json(const cJSON *doc, struct pl_block *b);
/* {"BlockPublicAcls": true, ...} in model order. */
cJSON *pl_block_json(const struct pl_block *b);
int pl_block_all_on(const struct pl_block *b);
/* "BlockPublicAcls,IgnorePublicAcls" of the settings that are off, "" none */
void pl_block_off_names(const struct pl_block *b, char *out, size_t n);
/* The input of PutPublicAccessBlock that turns all four on (merging: a
 * setting already on stays on; nothing is ever turned off):
 * {"PublicAccessBlockConfiguration": {...all true}}; with account, also
 * "AccountId" (s3control). */
cJSON *pl_lock_input(const char *account);
/* The restore entry's args for putting `prior` back: the put input of the
 * prior configuration (present), else NULL (the caller records a
 * DeletePublicAccessBlock instead). */
cJSON *pl_restore_input(const struct pl_block *prior, const char *bucket, const char *account);

/* The public grants of a GetBucketAcl answer ({"AccessControlList":
 * {"Grant": object or array}}): grants to AllUsers or AuthenticatedUsers
 * (any permission). Returns how many; `names` gets "AllUsers:READ,..."
 * 0 for a malformed answer is not possible to tell from none: -1 then. */
int pl_acl_public(const cJSON *acl, char *names, size_t n);

/* The bucket's state and the decision. */
struct pl_state {
	int policy_public;         /* GetBucketPolicyStatus IsPublic (0 when there is no policy) */
	int acl_public;            /* pl_acl_public() > 0 */
	struct pl_block bucket, account;
};
enum pl_exposure {
	PL_NOT_PUBLIC = 0,         /* nothing grants public access: skipped */
	PL_BLOCKED,                /* public policy or ACL, made ineffective by the effective block */
	PL_PUBLIC                  /* effective public access */
};
/* Effective settings are the bucket's OR the account's (S3 uses the most
 * restrictive combination). A public policy is effective unless
 * RestrictPublicBuckets is on; a public ACL unless IgnorePublicAcls is.
 * `why` says which. */
enum pl_exposure pl_exposure(const struct pl_state *s, char *why, size_t n);

/* Settings (environment). */
struct pl_settings {
	int account_lock;          /* FIREBREAK_PL_ACCOUNT_LOCK (default true): put the
				    * account-level block back on account triggers */
};
enum fb_err pl_settings_from_env(struct pl_settings *s, char *err, size_t errlen);

#endif
