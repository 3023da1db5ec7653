/*
 * root-verify: the pure stages (stages.c) shared by the handler (main.c),
 * the unit tests and the fuzz target. Prefix rv_. Nothing declared here does
 * I/O or reads the clock: events, CloudTrail records and AWS answers come in
 * as cJSON, facts, the verdict and report pieces go out. Every struct is
 * plain data (fixed arrays, no owned pointers) unless a field says otherwise.
 */
#ifndef FB_ROOT_VERIFY_H
#define FB_ROOT_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "alarm.h"
#include "cloudtrail.h"
#include "endpoint.h"
#include "fb_err.h"
#include "kit.h"
#include "regions.h"
#include "resp.h"
#include "verdict.h"

#define RV_DEFAULT_ALARM "root-account-usage"
#define RV_MAX_CIDRS 64
#define RV_MAX_DISTINCT 32     /* distinct names / IPs kept in the summary */
#define RV_MAX_LISTED 8        /* sensitive calls / outside IPs listed by name */
/* Regions read at most (FIREBREAK_ROOT_REGIONS, plus the trigger's). */
#define RV_MAX_REGIONS 32

/* ---- settings ------------------------------------------------------------ */

/* What rv_decide needs besides the facts: all pure data. */
struct rv_policy {
	struct kit_cidr cidrs[RV_MAX_CIDRS];
	size_t ncidrs;
	int cidrs_configured;       /* FIREBREAK_ROOT_ALLOWED_CIDRS set and non-empty */
	int failed_threshold;       /* FIREBREAK_ROOT_FAILED_SIGNIN_THRESHOLD */
	const struct resp_config *resp; /* trusted principals; borrowed */
};

struct rv_config {
	char alarm_name[256];
	int lookback_minutes;       /* default window before the event */
	int max_pages;              /* per Region */
	int max_events;             /* over all Regions */
	/* FIREBREAK_ROOT_REGIONS; nregions 0 = unset (the default plan:
	 * rv_regions_plan) */
	char regions[RV_MAX_REGIONS][REGIONS_NAME_LEN];
	size_t nregions;
	struct rv_policy policy;
};

/* Settings from the environment (read once, at init). `rc` is borrowed for
 * the config's life (trusted principals). FB_E_CONFIG with a message in
 * err when a value cannot be used. */
enum fb_err rv_config_from_env(struct rv_config *c, const struct resp_config *rc,
			       char *err, size_t errlen);
/* FIREBREAK_ROOT_ALLOWED_CIDRS (kit_cidrs_parse) into p->cidrs. NULL list =
 * none configured. */
enum fb_err rv_cidrs_parse(const char *list, struct rv_policy *p, char *err, size_t errlen);

/* The Regions whose root history is read, in reading order: the trigger's
 * Region (event_region, may be NULL/""), then FIREBREAK_ROOT_REGIONS when
 * set, else the partition's sign-in Region and own_region (the function's).
 * Duplicates and names that are not Region names are dropped. Returns how
 * many were written to out (at most cap). All inputs borrowed. */
size_t rv_regions_plan(const struct rv_config *c, const char *partition, const char *event_region,
		       const char *own_region, char out[][REGIONS_NAME_LEN], size_t cap);

/* ---- the window's history ---------------------------------------------------------- */

struct rv_history {
	int queried;                /* LookupEvents was attempted */
	struct regions_log reads;   /* complete: every page of every planned Region was read */
	size_t pages, events;
	size_t unparsed;            /* CloudTrailEvent missing, too big or not JSON */
	char names[RV_MAX_DISTINCT][64];
	size_t name_counts[RV_MAX_DISTINCT];
	size_t nnames;
	int names_overflow;
	char ips[RV_MAX_DISTINCT][64];
	size_t nips;
	int ips_overflow;
	size_t mfa[3];              /* by enum ct_mfa */
	size_t signins_ok, signins_no_mfa, failed_signins;
	size_t api_no_mfa;
	size_t sensitive;
	char sensitive_names[RV_MAX_LISTED][64];
	size_t nsensitive_names;
	size_t ips_outside;
	char outside_ips[RV_MAX_LISTED][64];
	size_t noutside;
	size_t centralized_trusted, centralized_untrusted;
	char untrusted_issuer[256];
	char trigger_event_id[128];  /* set before paging; "" if none */
	int saw_trigger;
};

/* trigger_event_id (borrowed, may be "") is copied. */
void rv_history_init(struct rv_history *h, const char *trigger_event_id);
/* Adds one LookupEvents page (borrowed); returns how many events it held.
 * Stops summarising once max_events are counted. */
size_t rv_history_add_page(struct rv_history *h, const struct rv_policy *p,
			   const cJSON *page, size_t max_events);

/* ---- IAM account summary ---------------------------------------------------------- */

struct rv_account {
	int known;                  /* both values were read */
	int mfa_enabled;            /* AccountMFAEnabled */
	int access_keys_present;    /* AccountAccessKeysPresent */
};

/* A GetAccountSummary answer (borrowed, any shape the XML layer gives the
 * SummaryMap) -> a. FB_E_PARSE when either value is missing. */
enum fb_err rv_account_parse(const cJSON *out, struct rv_account *a);

/* ---- the verdict: a pure function of the facts ----------------------------------------- */

enum rv_kind { RV_SIGNIN, RV_API_CALL, RV_ALARM, RV_MANUAL };

struct rv_facts {
	enum rv_kind kind;
	int has_event;              /* sign-in / API call: `ev` holds the trigger */
	struct ct_facts ev;
	struct rv_history hist;
	struct rv_account acct;
	int window_minutes;
	const struct rv_policy *policy;
};

/* The verdict table: severity, verdict text and every reason, from f alone. */
void rv_decide(const struct rv_facts *f, struct vd_verdict *v);

/* ---- trigger classification --------------------------------------------------------------- */

enum rv_class { RV_CLASS_INVALID, RV_CLASS_SKIP, RV_CLASS_RUN };

struct rv_trigger {
	enum rv_kind kind;
	int window_minutes;
	int64_t end_ms;             /* window end, 0 = now */
	struct ct_facts ev;         /* sign-in / API call */
	char why[256];              /* invalid or skip reason */
	char alarm_name[256];
};

/* Decides what an event (borrowed) is; t->why says why for INVALID/SKIP. */
enum rv_class rv_classify(const cJSON *ev, const struct rv_config *cfg, struct rv_trigger *t);

/* ---- request and report pieces (caller cJSON_Delete()s what is returned) ---- */

cJSON *rv_history_json(const struct rv_history *h, size_t max_pages, size_t max_events);
/* root-verify's own report fields, added to `extra` (borrowed): trigger
 * kind, window, event, history, account summary, assessment, reasons,
 * next steps. */
void rv_report_extra(cJSON *extra, const struct rv_trigger *t, const struct rv_facts *f,
		     const struct vd_verdict *v, const struct rv_config *cfg, const char *account,
		     const char *start_iso, const char *end_iso);

#endif
