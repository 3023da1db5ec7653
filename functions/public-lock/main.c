/*
 * public-lock: close an S3 bucket made public (issue 19), on the responder
 * kit. README.md next to this file has triggers, actions, decisions,
 * Safety and IAM; public_lock.h declares the pure stages (stages.c).
 *
 * The runbook, per bucket:
 *   round 1 (reads, concurrent): GetBucketPolicyStatus, GetBucketAcl,
 *            GetPublicAccessBlock (bucket), GetPublicAccessBlock (account,
 *            s3control), GetBucketTagging
 *   decide:  pl_exposure() from that state; firebreak:public-ok under the
 *            provenance rule (runtime/prov.h)
 *   round 2: PutPublicAccessBlock, all four settings on (restore: the prior
 *            configuration, or DeletePublicAccessBlock when there was none)
 *   round 3: confirm: GetPublicAccessBlock and GetBucketPolicyStatus again
 * and for the account (account-level triggers, {"account": ...}):
 *   read s3control GetPublicAccessBlock, put all four on (restore the prior
 *   one), read it back.
 */
#include "public_lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"
#include "sect.h"

#define PL_FUNCTION "public-lock"
#define PL_DEADLINE_MARGIN_MS 500

struct pl_fn {
	struct fn_base fn;
	struct pl_settings set;
};

static enum fb_err pl_settings(void *state, char *err, size_t errlen)
{
	return pl_settings_from_env(&((struct pl_fn *)state)->set, err, errlen);
}

struct pl_run {
	struct pl_fn *st;
	struct resp *r;
	struct kit *k;
	const struct pl_event *ev;
	struct aws_client *c;      /* the account's client (kit_client) */
	const char *account;       /* the account acted in */
	cJSON *sections;           /* borrowed: r->extra["buckets"] */
	const struct lr_context *ctx;   /* borrowed: the deadline (the undo record) */
	int nlocked, nalready, nskipped, nfailed, nexempt;
};

#define NO_BLOCK "NoSuchPublicAccessBlockConfiguration"

/* The undo record of one lock (issue 24), before the write: restore.json
 * of the incident's next attempt when FIREBREAK_EVIDENCE_BUCKET is set.
 * Never holds the lock back (evidence_undo_record): a public bucket is
 * locked whether or not its undo could be recorded. `restore` borrowed. */
static void pl_undo_record(struct pl_run *run, const char *step, const char *subject_name,
			   const char *subject, const cJSON *restore, cJSON *sec)
{
	cJSON *rec = cJSON_CreateArray(), *e = cJSON_Duplicate(restore, 1);

	if (e)
		cJSON_AddStringToObject(e, "step", step);
	cJSON_AddItemToArray(rec, e);
	evidence_undo_claim(run->k, run->st->fn.aws, &run->st->fn.evcfg, run->ctx, subject_name, subject, rec, sec);
}

/* firebreak:public-ok=true, under the provenance rule: 1 honoured. The
 * history read is an optional READ step: when it fails the tag is ignored
 * (fail towards containment), it does not fail the invocation. */
static int pl_exemption(struct pl_run *run, cJSON *sec, const char *bucket, const cJSON *tags)
{
	struct prov_history h;
	struct prov_query q;
	cJSON *one = cJSON_CreateArray();
	char arn[128], why[PROV_REASON_LEN];
	enum prov_verdict v;

	snprintf(arn, sizeof(arn), "arn:%s:s3:::%s", kit_partition(run->k), bucket);
	memset(&q, 0, sizeof(q));
	q.trigger_ms = run->ev->event_ms > 0 ? run->ev->event_ms : run->r->received_ms;
	q.trigger_event_id = run->ev->event_id[0] ? run->ev->event_id : NULL;
	q.trigger_actor = run->ev->actor[0] ? run->ev->actor : NULL;
	q.min_age_ms = run->st->fn.cfg.tag_min_age_ms;
	q.trust = &run->st->fn.cfg;
	kit_prov_history(run->k, &(struct kit_prov_read){ .step = "tag-provenance", .arn = arn, .client = run->c,
		.account = run->account, .deadline_ms = kit_read_deadline(run->k, 3 * PL_DEADLINE_MARGIN_MS),
		.complete_note = " (complete)" }, &h);
	prov_query_from_history(&q, &h);
	v = prov_decide_tag(h.events, &q, PL_TAG_PUBLIC_OK, prov_tag_value(tags, PL_TAG_PUBLIC_OK), why,
			    sizeof(why), one);
	cJSON_AddItemToObject(sec, "exemption", cJSON_DetachItemFromArray(one, 0));
	cJSON_Delete(one);
	prov_history_cleanup(&h);
	return v == PROV_HONOURED;
}

/* One bucket: read, decide, lock, confirm. */
static void pl_bucket(struct pl_run *run, const char *bucket)
{
	struct resp *r = run->r;
	struct kit_round *rd;
	struct kit_step *s_pol, *s_acl, *s_blk, *s_acct, *s_tags, *s_lock, *s_cblk, *s_cpol;
	struct pl_state state;
	struct pl_block after;
	cJSON *sec = cJSON_CreateObject(), *acct_in, *restore;
	char why[300], names[300], off[120];
	enum pl_exposure ex;
	int ngrants;

	if (!sec)
		return;
	cJSON_AddItemToArray(run->sections, sec);
	cJSON_AddStringToObject(sec, "bucket", bucket);
	memset(&state, 0, sizeof(state));

	/* Round 1: the bucket's real state. */
	rd = kit_round_new(run->k);
	s_pol = kit_add(rd, &(struct kit_spec){ .step = "read-policy-status", .service = "s3",
		.op = "GetBucketPolicyStatus", .target = bucket, .kind = RESP_READ, .bucket = bucket,
		.client = run->c, .absent = "NoSuchBucketPolicy" });
	s_acl = kit_add(rd, &(struct kit_spec){ .step = "read-acl", .service = "s3", .op = "GetBucketAcl",
		.target = bucket, .kind = RESP_READ, .bucket = bucket, .client = run->c });
	s_blk = kit_add(rd, &(struct kit_spec){ .step = "read-block", .service = "s3",
		.op = "GetPublicAccessBlock", .target = bucket, .kind = RESP_READ, .bucket = bucket,
		.client = run->c, .absent = NO_BLOCK });
	acct_in = cJSON_CreateObject();
	if (acct_in && run->account)
		cJSON_AddStringToObject(acct_in, "AccountId", run->account);
	/* Optional: without it the account's settings count as off, which can
	 * only make the bucket look more exposed (fail towards containment). */
	s_acct = kit_add(rd, &(struct kit_spec){ .step = "read-account-block", .service = "s3control",
		.op = "GetPublicAccessBlock", .target = run->account ? run->account : "", .kind = RESP_READ,
		.optional = 1, .in = acct_in, .client = run->c, .absent = NO_BLOCK });
	/* Optional: without tags there is no exemption to honour. */
	s_tags = kit_add(rd, &(struct kit_spec){ .step = "read-tags", .service = "s3",
		.op = "GetBucketTagging", .target = bucket, .kind = RESP_READ, .optional = 1,
		.bucket = bucket, .client = run->c, .absent = "NoSuchTagSet" });
	if (!run->account)
		kit_skip(s_acct, "the account is not known");
	kit_run(rd);

	if (!kit_ok(s_pol) || !kit_ok(s_acl) || !kit_ok(s_blk)) {
		sect_outcome(sec, 0, "failed: the bucket's state could not be read: nothing changed");
		run->nfailed++;
		goto out;
	}
	if (kit_found(s_pol)) {
		const char *p = resp_get_str(kit_out(s_pol), "IsPublic");

		if (!p || (strcmp(p, "true") && strcmp(p, "false"))) {
			kit_fail(s_pol, "the answer has no IsPublic true/false");
			sect_outcome(sec, 0, "failed: unreadable policy status: nothing changed");
			run->nfailed++;
			goto out;
		}
		state.policy_public = !strcmp(p, "true");
		kit_detail(s_pol, "IsPublic=%s", p);
	} else {
		kit_detail(s_pol, "no bucket policy");
	}
	ngrants = pl_acl_public(kit_out(s_acl), names, sizeof(names));
	if (ngrants < 0) {
		kit_fail(s_acl, "the answer is not an access control policy");
		sect_outcome(sec, 0, "failed: unreadable ACL: nothing changed");
		run->nfailed++;
		goto out;
	}
	state.acl_public = ngrants > 0;
	kit_detail(s_acl, "%d public grant%s%s%s", ngrants, ngrants == 1 ? "" : "s", ngrants ? ": " : "", names);
	if (kit_found(s_blk) && !pl_block_from_json(kit_out(s_blk), &state.bucket)) {
		kit_fail(s_blk, "the answer is not a block configuration");
		sect_outcome(sec, 0, "failed: unreadable block configuration: nothing changed (its undo could not "
			     "be recorded)");
		run->nfailed++;
		goto out;
	}
	if (kit_ok(s_acct) && kit_found(s_acct))
		pl_block_from_json(kit_out(s_acct), &state.account);
	pl_block_off_names(&state.bucket, off, sizeof(off));
	if (kit_found(s_blk))
		kit_detail(s_blk, "%s%s", off[0] ? "off: " : "all four on", off);
	else
		kit_detail(s_blk, "no bucket-level block configuration");
	cJSON_AddItemToObject(sec, "prior_block", state.bucket.present ? pl_block_json(&state.bucket)
								       : cJSON_CreateNull());
	cJSON_AddItemToObject(sec, "account_block", state.account.present ? pl_block_json(&state.account)
									  : cJSON_CreateNull());
	cJSON_AddBoolToObject(sec, "policy_public", state.policy_public);
	cJSON_AddStringToObject(sec, "acl_public_grants", names);

	ex = pl_exposure(&state, why, sizeof(why));
	cJSON_AddStringToObject(sec, "exposure", ex == PL_PUBLIC ? "public" : ex == PL_BLOCKED ? "blocked"
									: "not-public");
	cJSON_AddStringToObject(sec, "exposure_reason", why);
	if (ex == PL_NOT_PUBLIC || (ex == PL_BLOCKED && !pl_block_all_on(&state.bucket))) {
		sect_outcome(sec, 0, "skipped: not public: %s", why);
		run->nskipped++;
		goto out;
	}
	{
		/* <TagSet><Tag>: one tag is an object, several an array
		 * (runtime/xml.h); prov reads an array of {Key, Value}. */
		const cJSON *t = kit_ok(s_tags) && kit_found(s_tags) ? resp_get(kit_out(s_tags), "TagSet.Tag") : NULL;
		cJSON *arr = cJSON_IsArray(t) ? cJSON_Duplicate(t, 1) : cJSON_CreateArray();

		if (arr && cJSON_IsObject(t))
			cJSON_AddItemToArray(arr, cJSON_Duplicate(t, 1));
		if (ex == PL_PUBLIC && prov_tag_true(arr, PL_TAG_PUBLIC_OK) && pl_exemption(run, sec, bucket, arr)) {
			cJSON_Delete(arr);
			sect_outcome(sec, 0, "skipped: intended public (" PL_TAG_PUBLIC_OK " honoured): reported, "
				     "not locked");
			resp_warn(r, "bucket %s is public (%s) and exempt by %s=true", bucket, why, PL_TAG_PUBLIC_OK);
			run->nexempt++;
			run->nskipped++;
			goto out;
		}
		cJSON_Delete(arr);
	}

	/* Round 2: the lock. The policy and ACL stay as they are: the block
	 * makes them ineffective and they are evidence. */
	restore = state.bucket.present
		? kit_undo("s3:PutPublicAccessBlock", pl_restore_input(&state.bucket, bucket, NULL))
		: kit_undo("s3:DeletePublicAccessBlock", cJSON_CreateObject());
	if (!state.bucket.present && restore)
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(restore, "args"), "Bucket", bucket);
	kit_round_free(rd);
	if (!pl_block_all_on(&state.bucket))
		pl_undo_record(run, "lock-bucket", "bucket", bucket, restore, sec);
	rd = kit_round_new(run->k);
	s_lock = kit_add(rd, &(struct kit_spec){ .step = "lock-bucket", .service = "s3",
		.op = "PutPublicAccessBlock", .target = bucket, .kind = RESP_WRITE, .bucket = bucket,
		.in = pl_lock_input(NULL), .restore = restore, .client = run->c,
		.detail = "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets on" });
	if (pl_block_all_on(&state.bucket))
		kit_already(s_lock, "all four settings already on (%s)", why);
	kit_run(rd);
	if (kit_status(s_lock) == RESP_ALREADY) {
		sect_outcome(sec, 0, "already: the bucket's block settings are all on");
		run->nalready++;
		goto out;
	}
	if (kit_status(s_lock) == RESP_PLANNED) {
		sect_outcome(sec, 0, "planned: lock (dry run)");
		run->nlocked++;
		goto out;
	}
	if (!kit_ok(s_lock)) {
		sect_outcome(sec, 0, "failed: PutPublicAccessBlock failed");
		run->nfailed++;
		goto out;
	}
	resp_contained(r);

	/* Round 3: confirm from the state, not from the write's 200. */
	kit_round_free(rd);
	rd = kit_round_new(run->k);
	s_cblk = kit_add(rd, &(struct kit_spec){ .step = "confirm-block", .service = "s3",
		.op = "GetPublicAccessBlock", .target = bucket, .kind = RESP_READ, .bucket = bucket,
		.client = run->c });
	s_cpol = kit_add(rd, &(struct kit_spec){ .step = "confirm-policy-status", .service = "s3",
		.op = "GetBucketPolicyStatus", .target = bucket, .kind = RESP_READ, .optional = 1,
		.bucket = bucket, .client = run->c, .absent = "NoSuchBucketPolicy" });
	kit_run(rd);
	if (!kit_ok(s_cblk) || !pl_block_from_json(kit_out(s_cblk), &after) || !pl_block_all_on(&after)) {
		if (kit_ok(s_cblk)) {
			pl_block_off_names(&after, off, sizeof(off));
			kit_fail(s_cblk, "after the write the block reads off: %s", off);
		}
		sect_outcome(sec, 0, "failed: the lock is not confirmed");
		run->nfailed++;
		goto out;
	}
	kit_detail(s_cblk, "all four settings on");
	if (kit_ok(s_cpol)) {
		const char *p = kit_found(s_cpol) ? resp_get_str(kit_out(s_cpol), "IsPublic") : NULL;

		kit_detail(s_cpol, "%s", !p ? "no bucket policy"
			   : !strcmp(p, "true") ? "IsPublic=true: the policy text is public, RestrictPublicBuckets "
						  "now makes it ineffective"
			   : "IsPublic=false");
	}
	sect_outcome(sec, 0, "locked: all four block settings on, confirmed");
	run->nlocked++;
out:
	kit_round_free(rd);
}

/* The account's block: put back on when an account-level trigger (or the
 * manual form) finds any setting off. */
static void pl_account(struct pl_run *run)
{
	struct kit_round *rd;
	struct kit_step *s_read, *s_lock, *s_conf;
	struct pl_block prior, after;
	cJSON *sec = cJSON_AddObjectToObject(run->r->extra, "account_block"), *restore, *in;
	char off[120];

	if (!sec)
		return;
	cJSON_AddStringToObject(sec, "account", run->account);
	memset(&prior, 0, sizeof(prior));
	rd = kit_round_new(run->k);
	in = cJSON_CreateObject();
	if (in)
		cJSON_AddStringToObject(in, "AccountId", run->account);
	s_read = kit_add(rd, &(struct kit_spec){ .step = "read-account-block", .service = "s3control",
		.op = "GetPublicAccessBlock", .target = run->account, .kind = RESP_READ, .in = in,
		.client = run->c, .absent = NO_BLOCK });
	kit_run(rd);
	if (!kit_ok(s_read) || (kit_found(s_read) && !pl_block_from_json(kit_out(s_read), &prior))) {
		if (kit_ok(s_read))
			kit_fail(s_read, "the answer is not a block configuration");
		cJSON_AddStringToObject(sec, "outcome", "failed: the account's block could not be read: nothing "
					"changed");
		run->nfailed++;
		goto out;
	}
	pl_block_off_names(&prior, off, sizeof(off));
	kit_detail(s_read, "%s%s", !prior.present ? "none (removed)" : off[0] ? "off: " : "all four on",
		   prior.present ? off : "");
	cJSON_AddItemToObject(sec, "prior_block", prior.present ? pl_block_json(&prior) : cJSON_CreateNull());
	if (!run->st->set.account_lock) {
		cJSON_AddStringToObject(sec, "outcome", "skipped: FIREBREAK_PL_ACCOUNT_LOCK=false");
		run->nskipped++;
		goto out;
	}
	in = pl_restore_input(&prior, NULL, run->account);
	restore = in ? kit_undo("s3control:PutPublicAccessBlock", in)
		     : kit_undo("s3control:DeletePublicAccessBlock", cJSON_CreateObject());
	if (!in && restore)
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(restore, "args"), "AccountId", run->account);
	kit_round_free(rd);
	if (!pl_block_all_on(&prior))
		pl_undo_record(run, "lock-account", "account", run->account, restore, sec);
	rd = kit_round_new(run->k);
	s_lock = kit_add(rd, &(struct kit_spec){ .step = "lock-account", .service = "s3control",
		.op = "PutPublicAccessBlock", .target = run->account, .kind = RESP_WRITE,
		.in = pl_lock_input(run->account), .restore = restore, .client = run->c,
		.detail = "account-level BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, "
			  "RestrictPublicBuckets on" });
	if (pl_block_all_on(&prior))
		kit_already(s_lock, "the account's four settings are already on");
	kit_run(rd);
	if (kit_status(s_lock) == RESP_ALREADY || kit_status(s_lock) == RESP_PLANNED) {
		cJSON_AddStringToObject(sec, "outcome", kit_status(s_lock) == RESP_ALREADY ? "already" : "planned");
		if (kit_status(s_lock) == RESP_ALREADY)
			run->nalready++;
		else
			run->nlocked++;
		goto out;
	}
	if (!kit_ok(s_lock)) {
		cJSON_AddStringToObject(sec, "outcome", "failed: PutPublicAccessBlock (account) failed");
		run->nfailed++;
		goto out;
	}
	resp_contained(run->r);
	kit_round_free(rd);
	rd = kit_round_new(run->k);
	in = cJSON_CreateObject();
	if (in)
		cJSON_AddStringToObject(in, "AccountId", run->account);
	s_conf = kit_add(rd, &(struct kit_spec){ .step = "confirm-account-block", .service = "s3control",
		.op = "GetPublicAccessBlock", .target = run->account, .kind = RESP_READ, .in = in,
		.client = run->c });
	kit_run(rd);
	if (!kit_ok(s_conf) || !pl_block_from_json(kit_out(s_conf), &after) || !pl_block_all_on(&after)) {
		if (kit_ok(s_conf))
			kit_fail(s_conf, "after the write a setting reads off");
		cJSON_AddStringToObject(sec, "outcome", "failed: the account lock is not confirmed");
		run->nfailed++;
		goto out;
	}
	kit_detail(s_conf, "all four settings on");
	cJSON_AddStringToObject(sec, "outcome", "locked: confirmed");
	run->nlocked++;
out:
	kit_round_free(rd);
}

static enum fb_err pl_handle(void *state, const char *event, size_t len, const struct lr_context *ctx,
			     struct lr_result *out)
{
	struct pl_fn *st = state;
	struct pl_event ev;
	struct pl_run run;
	struct resp r;
	struct kit k;
	struct aws_error aerr;
	char why[512];
	enum fb_err rc;
	size_t i;

	if (pl_parse(event, len, &ev, why, sizeof(why)) != FB_OK)
		return resp_invalid(out, "%s", why);
	if (!fn_open(&r, &k, st, ctx, ev.root, NULL, out, &rc)) {
		pl_event_cleanup(&ev);
		return rc;
	}
	memset(&run, 0, sizeof(run));
	run.st = st;
	run.r = &r;
	run.k = &k;
	run.ev = &ev;
	run.ctx = ctx;
	resp_set_severity(&r, "P1");
	if (ev.scope == PL_SCOPE_BUCKET && ev.nbuckets) {
		char arn[128];

		snprintf(arn, sizeof(arn), "arn:%s:s3:::%s", kit_partition(&k), ev.buckets[0]);
		resp_set_resource(&r, arn, ev.account[0] ? ev.account : NULL, ev.region[0] ? ev.region : NULL);
	} else if (ev.account[0]) {
		resp_set_resource(&r, ev.account, ev.account, NULL);
	}
	if (ev.control[0])
		cJSON_AddStringToObject(r.extra, "control", ev.control);
	if (ev.event_name[0])
		cJSON_AddStringToObject(r.extra, "event_name", ev.event_name);

	if (ev.skip[0]) {
		resp_skip(&r, "%s", ev.skip);
		goto finish;
	}
	/* A trusted principal's change (the IaC pipeline opening a website)
	 * is reported, not reverted. */
	if (ev.source == PL_SRC_CLOUDTRAIL && ev.actor[0] && resp_is_trusted(&st->fn.cfg, ev.actor)) {
		resp_skip(&r, "trusted actor %s made the change: reported, not reverted", ev.actor);
		goto finish;
	}
	run.account = ev.account[0] ? ev.account : kit_own_account(&k);
	memset(&aerr, 0, sizeof(aerr));
	/* The bucket's account and region: S3 redirects a request sent to
	 * another region's endpoint. */
	run.c = kit_client(&k, ev.account[0] ? ev.account : NULL, ev.region[0] ? ev.region : NULL,
			   "assume-member-role", &aerr);
	if (!run.c)
		goto finish;
	if (ev.scope == PL_SCOPE_ACCOUNT) {
		if (!run.account) {
			resp_skip(&r, "the account is not known");
			goto finish;
		}
		pl_account(&run);
	} else {
		run.sections = cJSON_AddArrayToObject(r.extra, "buckets");
		for (i = 0; i < ev.nbuckets; i++)
			pl_bucket(&run, ev.buckets[i]);
	}
	if (!resp_failed(&r)) {
		if (run.nfailed)
			resp_set_verdict(&r, "failed: %d of %zu not contained (see buckets[])", run.nfailed,
					 ev.scope == PL_SCOPE_ACCOUNT ? (size_t)1 : ev.nbuckets);
		else if (run.nlocked && r.dry_run)
			resp_set_verdict(&r, "dry run: %d lock%s planned", run.nlocked, run.nlocked == 1 ? "" : "s");
		else if (run.nlocked)
			resp_set_verdict(&r, "contained");
		else if (run.nalready)
			resp_set_verdict(&r, "already-contained");
		else if (run.nexempt)
			resp_skip(&r, "intended public: %s=true honoured (see buckets[].exemption)", PL_TAG_PUBLIC_OK);
		else {
			const char *o = run.sections ? resp_get_str(cJSON_GetArrayItem(run.sections, 0), "outcome")
						     : resp_get_str(r.extra, "account_block.outcome");

			resp_skip(&r, "%s", o && !strncmp(o, "skipped: ", 9) ? o + 9 : "nothing to lock");
		}
	}
finish:
	pl_event_cleanup(&ev);
	return fn_finish(&k, out);
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = PL_FUNCTION, .margin_ms = PL_DEADLINE_MARGIN_MS,
		.size = sizeof(struct pl_fn), .settings = pl_settings, .handle = pl_handle });
}
