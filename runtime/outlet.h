/*
 * outlet: the report where people already look (issue 24), for every
 * responder on the kit. resp_finish() runs it before the SNS publication;
 * kit_init() wires it (resp.outlet), so no responder writes a line of it.
 *
 * Steps, all optional reporting writes (kit_spec.notify: a failure never
 * fails a containment, never counts as containment in the verdict or the
 * metrics), one round, concurrently:
 *  - "publish-event" (events:PutEvents) when FIREBREAK_EVENT_BUS names a bus:
 *    source "firebreak", detail-type "Firebreak Incident Report", the report
 *    as it stands as detail, or, when the entry would pass EventBridge's
 *    256 KB entry limit, outlet_event_detail()'s summary. Sent under dry run
 *    (the report says dry_run). Loop safety: no rule of infra/ matches source
 *    "firebreak" (tests/integration/68-report-publish.py checks it), and
 *    EventBridge never delivers a custom source to rules matching aws.*.
 *  - "update-finding" (securityhub:BatchUpdateFindings), with
 *    FIREBREAK_SECURITYHUB_UPDATE=true, when the incident came from a
 *    GuardDuty or Security Hub finding (resp.finding_ref) and the responder
 *    called kit_finding (which sets resp.finding_hook: the IAM derivation
 *    sees the operation only in the responders that do): Workflow.Status
 *    RESOLVED when the verdict is contained / already-contained, NOTIFIED
 *    otherwise (a human must look), and a Note "firebreak <function>
 *    <incident id>: <verdict>". Under dry run it is skipped ("dry run"):
 *    a workflow status is the SOC's state, not a notification.
 *  - "import-finding" (securityhub:BatchImportFindings), with
 *    FIREBREAK_SECURITYHUB_IMPORT=true: the incident as an ASFF finding of
 *    the account's default product (outlet_asff()), Id
 *    "firebreak/<function>/<incident id>" (a replay updates it).
 * A partly refused batch (FailedEntryCount, UnprocessedFindings,
 * FailedCount) is a failed line with AWS's code.
 *
 * Ownership: the outlet borrows the report and the client; everything it
 * builds is freed before it returns.
 */
#ifndef FB_OUTLET_H
#define FB_OUTLET_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "kit.h"
#include "resp.h"

#define OUTLET_SOURCE "firebreak"
#define OUTLET_DETAIL_TYPE "Firebreak Incident Report"
/* EventBridge: the entry's Source + DetailType + Detail + Resources bytes */
#define OUTLET_ENTRY_MAX (256u * 1024u)

/* resp.outlet: the steps above on r (borrowed), through a kit of its own. */
void outlet_publish(struct resp *r, struct aws_client *aws);
/* resp.finding_hook: declares the "update-finding" step into rd (the
 * outlet's round); NULL when there is nothing to update. */
struct kit_step *outlet_finding_update(struct kit_round *rd, struct resp *r);

/* Pure stages (tests/unit/test_outlet.c). */
/* The PutEvents detail for `report` (its JSON text, len bytes, borrowed):
 * the report itself when Source + DetailType + it + resource fit
 * OUTLET_ENTRY_MAX, else a summary object (caller frees the text): incident_id,
 * function, severity, verdict, dry_run, resource, account, region,
 * "truncated": true, report_bytes, actions_by_status {status: n}, the
 * failed steps' names (at most 50) and restore_entries (the count); the
 * full report is in the logs and the evidence. NULL when out of memory. */
char *outlet_event_detail(const struct resp *r, const char *report, size_t len,
			  const char *resource);
/* Workflow status for a verdict: "RESOLVED" (contained, already-contained)
 * or "NOTIFIED". */
const char *outlet_workflow_status(const char *verdict);
/* The ASFF finding for the report (caller deletes): every member botocore's
 * AwsSecurityFinding marks required, in its limits (Title 256, Description
 * 1024 characters). account: the importing (own) account; region,
 * partition: the client's; now_ms: UpdatedAt. */
cJSON *outlet_asff(const struct resp *r, const char *account, const char *region,
		   const char *partition, int64_t now_ms);

#endif
