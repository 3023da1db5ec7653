/*
 * redeploy: a Secrets Manager secret gets a new value and the ECS services
 * that read it are redeployed (prefix rdp_). Issue 17: the sequence was
 * leak-rotate's; cognito-lockdown (issue 23) needs it too, with a value it
 * already has instead of a rotation function.
 *
 * The sequence, one kit round per phase, every secret of a run at once:
 *   rdp_rotate   RotateSecret (the secret's rotation function makes the
 *                value), or
 *   rdp_put      PutSecretValue with the caller's value (never logged nor
 *                reported: the line says its fingerprint);
 *                both send a ClientRequestToken (rdp_token) so a retried
 *                invocation makes no second version, and record the undo
 *                (move AWSCURRENT back to the old version) first;
 *   rdp_wait     DescribeSecret polls until the new version is AWSCURRENT,
 *                bounded by the deadline (one "wait-current" line each);
 *   rdp_redeploy UpdateService forceNewDeployment of each service that
 *                reads the secret ("cluster/service,..."), unless a
 *                deployment started after the change already exists (an
 *                earlier delivery of the same incident made it);
 *   rdp_rollout  (optional) DescribeServices polls until each of those
 *                services runs its new deployment only: the consumers read
 *                the new value, the old one can be revoked.
 * The caller decides before each phase which secrets go on (their state).
 *
 * Ownership: struct rdp is caller-placed (rdp_init / rdp_cleanup), borrows
 * the kit and the warnings array, owns the services list. The secrets are
 * the caller's (arrays of pointers, so they can live inside the caller's
 * own records); every string an rdp_secret points to is borrowed.
 */
#ifndef FB_REDEPLOY_H
#define FB_REDEPLOY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "fb_err.h"
#include "kit.h"

#define RDP_VERSION_LEN 80
/* Services redeployed per secret (the rest: a warning). */
#define RDP_MAX_SERVICES 20

enum rdp_state {
	RDP_NEW,                    /* not decided yet */
	RDP_STOP,                   /* nothing more to do (exempt, dry run, ...) */
	RDP_WRITE,                  /* rdp_rotate / rdp_put write a new version */
	RDP_WAIT,                   /* rdp_wait: until `version` is AWSCURRENT */
	RDP_CURRENT,                /* the new value is AWSCURRENT: rdp_redeploy */
	RDP_FAILED,
	RDP_RUNNING                 /* rdp_rollout: every service runs only a deployment made after the change */
};

struct rdp_secret {
	const char *arn;            /* borrowed: the secret */
	enum rdp_state state;
	char token[37];             /* ClientRequestToken (rdp_token) */
	char old_version[RDP_VERSION_LEN]; /* AWSCURRENT before the change: the undo's target */
	char version[RDP_VERSION_LEN];     /* the new version waited for; "": learned from AWSPENDING */
	char why[300];              /* appended to the write's line ("" none) */
	double changed_at;          /* epoch s it became AWSCURRENT (LastRotatedDate; LastChangedDate for a put) */
	const char *services;       /* borrowed: "cluster/service,..." that read it; NULL or "": none */
	const char *value;          /* borrowed, rdp_put only: the new SecretString; wiped from the request */
	int put;                    /* 1: the value was put (LastChangedDate dates it) */
	int wait_idx, polls;        /* rdp_wait's line and poll count */
};

struct rdp_svc {
	size_t secret;              /* index into the secrets passed to rdp_redeploy */
	char cluster[256], service[256];
	char target[520];           /* "cluster/service": the report's target */
	int need;                   /* 1: UpdateService is due */
	char deployment[128];       /* the deployment to follow ("" none) */
	int done;                   /* rdp_rollout: 1 rolled out, -1 failed */
};

struct rdp {
	struct kit *kit;            /* borrowed */
	int64_t poll_ms;            /* between polls */
	int64_t deadline_ms;        /* epoch ms polls stop by (the caller's finish reserve taken off); 0 none */
	cJSON *warnings;            /* borrowed array (NULL: dropped): what was not redeployed */
	const char *list_name;      /* names the services list in warnings ("firebreak:ecs-services") */
	const char *undo_note;      /* appended to the undo command ("" or NULL: none) */
	struct rdp_svc *sv;         /* owned: rdp_redeploy's services */
	size_t nsv, capsv;
	int64_t (*now_ms)(void);    /* epoch ms; the kit's clock unless a test sets it */
	void (*sleep_ms)(int64_t ms); /* nanosleep unless a test sets it */
};

void rdp_init(struct rdp *d, struct kit *k, int64_t poll_ms, int64_t deadline_ms, cJSON *warnings);
void rdp_cleanup(struct rdp *d);

/* Phases: each acts on the secrets in the state it names and moves them on.
 * rdp_rotate / rdp_put: RDP_WRITE -> RDP_WAIT (RDP_STOP under dry run:
 * planned, with the undo), RDP_FAILED. rdp_wait: RDP_WAIT -> RDP_CURRENT
 * or RDP_FAILED (also at the deadline). rdp_redeploy: the services of
 * every RDP_CURRENT secret. rdp_rollout: RDP_CURRENT -> RDP_RUNNING when
 * every one of its services rolled out (none listed: at once), else
 * RDP_FAILED (a rollout that failed, or the deadline). */
void rdp_rotate(struct rdp *d, struct rdp_secret *const *v, size_t n);
void rdp_put(struct rdp *d, struct rdp_secret *const *v, size_t n);
void rdp_wait(struct rdp *d, struct rdp_secret *const *v, size_t n);
void rdp_redeploy(struct rdp *d, struct rdp_secret *const *v, size_t n);
void rdp_rollout(struct rdp *d, struct rdp_secret *const *v, size_t n);

/* The secrets tagged key=value: ListSecrets with the tag-key and tag-value
 * filters (one quiet paged read, up to max_pages), each answer's own tags
 * checked again (the two filters match independently: a secret with the
 * key on one tag and the value on another would pass them). The ARNs are
 * appended to `arns` (caller's array). Returns FB_OK with *complete 0 when
 * the page cap cut the list; else FB_E_AWS with *err. cognito-lockdown
 * finds the secret its app client's consumers read this way; leak-rotate
 * the secrets it watches. */
enum fb_err rdp_tagged(struct kit *k, const char *key, const char *value, int max_pages, cJSON *arns,
		       int *complete, struct aws_error *err);

/* ---- pure stages (tests/unit/test_redeploy.c) ---- */

/* A ClientRequestToken (UUID form) from the incident, the secret and the
 * version being replaced: a retried invoke sends the same token, so Secrets
 * Manager does not create a second version, and a retry after the change
 * finished finds the token among the versions. */
void rdp_token(const char *incident, const char *arn, const char *old_version, char out[37]);
/* VersionIdsToStages: the version holding `stage` but not `unless` (NULL:
 * no exclusion); borrowed from v2s. */
const char *rdp_version_with(const cJSON *v2s, const char *stage, const char *unless);
int rdp_version_has(const cJSON *v2s, const char *vid, const char *stage);

enum rdp_poll { RDP_MORE, RDP_DONE, RDP_FAIL };
/* One DescribeSecret answer while waiting for s->version (learned from
 * AWSPENDING when empty) to become AWSCURRENT; sets changed_at when it is. */
enum rdp_poll rdp_wait_check(const cJSON *describe, struct rdp_secret *s, char *detail, size_t dlen);
/* "cluster/service,..." (at most RDP_MAX_SERVICES) appended to *sv (realloc'd,
 * caller frees); malformed entries go to warnings, named by list_name. */
enum fb_err rdp_services_parse(const char *list, size_t secret, const char *secret_arn,
			       const char *list_name, struct rdp_svc **sv, size_t *nsv, size_t *cap,
			       cJSON *warnings);
/* 1 when DescribeServices shows a PRIMARY deployment created at or after
 * changed_at (epoch s, > 0); `dep` gets its id. */
int rdp_deployed_since(const cJSON *describe_services, double changed_at, char *dep, size_t deplen);
/* The PRIMARY deployment id in an UpdateService answer, borrowed, or NULL. */
const char *rdp_primary_deployment(const cJSON *update_service);
/* One DescribeServices answer while following deployment `dep`: RDP_DONE
 * when it is the PRIMARY and only deployment (no task of an older one is
 * left) and its rolloutState is COMPLETED (without a rolloutState:
 * runningCount == desiredCount); RDP_FAIL when its rolloutState is FAILED,
 * or it is not the PRIMARY (someone deployed again: what runs now is not
 * what we followed, a human looks) or the service is gone; else RDP_MORE. */
enum rdp_poll rdp_rollout_check(const cJSON *describe_services, const char *dep, char *detail, size_t dlen);
/* The undo of a change: {"step", "api": "secretsmanager:UpdateSecretVersionStage",
 * "target", "prior_current_version", "command"}; `note` (may be NULL)
 * is appended to the command as a shell comment. Caller owns. */
cJSON *rdp_restore(const char *step, const char *arn, const char *old_version, const char *new_version,
		   const char *note);

/* ---- w4-kc-lr: the values of a set of secrets ------------------------------------- */

/* The AWSCURRENT and AWSPREVIOUS values of the secrets named in `ids` (a
 * borrowed array of strings: ids or ARNs), every GetSecretValue in one round (quiet steps: no report line, the caller
 * words one). fn(arg, i, cur, prev) for each secret in order (kit_out of a
 * step is NULL when its read failed, kit_err says why); every answer's
 * strings (SecretString) are wiped after fn. A fn that does not return
 * FB_OK stops the calls to fn (the rest is wiped unread) and its rc is
 * returned. FB_E_NOMEM (no call) when the round cannot be made. Added for
 * leak-rotate's watched values. */
typedef enum fb_err (*rdp_values_fn)(void *arg, size_t i, struct kit_step *cur, struct kit_step *prev);
enum fb_err rdp_values(struct kit *k, const cJSON *ids, rdp_values_fn fn, void *arg);

#endif
