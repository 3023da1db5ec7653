"""S3 (path-style): buckets and objects with checksums, SSE-KMS and object
lock headers honoured, and conditional writes (PutObject If-None-Match: *)."""
import base64
import binascii
import copy
import hashlib
import json

from protocols import AwsError, to_epoch
from . import Base, rand_id


class Service(Base):
    def reset(self):
        self.buckets = {}  # name -> {"account","region","versioning","object_lock","objects":{key: obj}}

    def seed(self, section, merge):
        for b in section.get("buckets", []):
            b = copy.deepcopy(b) if isinstance(b, dict) else {"name": b}
            acct, region = self.owner(b)
            lock = bool(b.get("object_lock", False))
            self.buckets[b["name"]] = {"account": acct, "region": region, "object_lock": lock,
                                       "versioning": bool(b.get("versioning", lock)), "objects": {},
                                       "rule": b.get("object_lock_rule")}
            self._seed_access(self.buckets[b["name"]], b)
            for key, o in (b.get("objects") or {}).items():
                body = o.encode() if isinstance(o, str) else base64.b64decode(o.get("body_b64", ""))
                self.buckets[b["name"]]["objects"][key] = self._obj(body, {}, 1700000000)

    def _obj(self, body, extra, when):
        return dict({"body": body, "ETag": '"%s"' % hashlib.md5(body).hexdigest(), "ContentLength": len(body),
                     "LastModified": when, "ContentType": "binary/octet-stream",
                     "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()}, **extra)

    def dump(self):
        out = []
        for name, b in self.buckets.items():
            objs = {}
            for k, o in b["objects"].items():
                d = {x: y for x, y in o.items() if x != "body"}
                d["body_b64"] = base64.b64encode(o["body"]).decode()
                d["sha256_hex"] = hashlib.sha256(o["body"]).hexdigest()
                objs[k] = d
            out.append(dict({k: v for k, v in b.items() if k != "objects"}, name=name, objects=objs))
        return {"buckets": out}

    def bucket(self, ctx, name):
        b = self.buckets.get(name)
        if b is None:
            raise AwsError("NoSuchBucket", "The specified bucket does not exist", 404)
        if b["account"] != ctx.account:
            raise AwsError("AccessDenied", "Access Denied", 403)
        return b

    def _get(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        o = b["objects"].get(p["Key"])
        if o is None:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404)
        return o

    # ---- operations
    def op_ListBuckets(self, ctx, p):
        return {"Buckets": [{"Name": n, "CreationDate": 1700000000} for n, b in sorted(self.buckets.items())
                            if b["account"] == ctx.account], "Owner": {"ID": ctx.account}}

    def op_CreateBucket(self, ctx, p):
        if p["Bucket"] in self.buckets:
            raise AwsError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded "
                           "and you already own it.", 409)
        lock = bool(p.get("ObjectLockEnabledForBucket"))
        self.buckets[p["Bucket"]] = {"account": ctx.account, "region": ctx.region, "object_lock": lock,
                                     "versioning": lock, "objects": {}}
        self._seed_access(self.buckets[p["Bucket"]], {})
        return {"Location": "/" + p["Bucket"]}

    def op_HeadBucket(self, ctx, p):
        self.bucket(ctx, p["Bucket"])
        return {}

    def op_GetBucketLocation(self, ctx, p):
        return {}

    def op_GetObjectLockConfiguration(self, ctx, p):
        """S3: 404 ObjectLockConfigurationNotFoundError when the bucket has
        no Object Lock; seed "object_lock_rule" {"Mode", "Days"|"Years"} adds
        a default retention rule."""
        b = self.bucket(ctx, p["Bucket"])
        if not b["object_lock"]:
            raise AwsError("ObjectLockConfigurationNotFoundError",
                           "Object Lock configuration does not exist for this bucket", 404)
        cfg = {"ObjectLockEnabled": "Enabled"}
        if b.get("rule"):
            cfg["Rule"] = {"DefaultRetention": dict(b["rule"])}
        return {"ObjectLockConfiguration": cfg}

    def op_GetBucketVersioning(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        return {"Status": "Enabled"} if b["versioning"] else {}

    def _if_none_match(self, ctx, p, b):
        """S3 conditional write: with If-None-Match: * the PUT succeeds only
        when no object has the key, else 412 PreconditionFailed (nothing is
        written). S3 accepts no other If-None-Match value on PUT (501).
        botocore models the header only from 1.35 on, so the raw header is
        read too. A concurrent conflicting write (409
        ConditionalRequestConflict) is left to fault injection."""
        inm = p.get("IfNoneMatch")
        if inm is None and ctx.headers is not None:
            inm = ctx.headers.get("If-None-Match")
        if inm is None:
            return
        if inm.strip() != "*":
            raise AwsError("NotImplemented", "A header you provided implies functionality that is not "
                           "implemented", 501)
        if p["Key"] in b["objects"]:
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                           412)

    def op_PutObject(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        body = p.get("Body") or b""
        extra = {}
        self._if_none_match(ctx, p, b)
        if p.get("ContentMD5") is not None:
            try:
                want = base64.b64decode(p["ContentMD5"], validate=True)
            except (binascii.Error, ValueError):
                want = b""
            if len(want) != 16:
                raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.")
            if want != hashlib.md5(body).digest():
                raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.")
        if p.get("ChecksumSHA256") is not None:
            try:
                want = base64.b64decode(p["ChecksumSHA256"], validate=True)
            except (binascii.Error, ValueError):
                want = b""
            if len(want) != 32:
                raise AwsError("InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid.")
            if want != hashlib.sha256(body).digest():
                raise AwsError("BadDigest", "The SHA256 you specified did not match the calculated checksum.")
            extra["ChecksumSHA256"] = p["ChecksumSHA256"]
        sse = p.get("ServerSideEncryption")
        if p.get("SSEKMSKeyId") and sse != "aws:kms":
            raise AwsError("InvalidArgument", "Server Side Encryption with KMS managed key requires HTTP header "
                           "x-amz-server-side-encryption : aws:kms")
        if sse == "aws:kms":
            kid = p.get("SSEKMSKeyId")
            if kid:
                kms = self.world.services["kms"]
                try:
                    meta = kms.find(ctx, kid)["meta"]
                except AwsError:
                    raise AwsError("KMS.NotFoundException", "Invalid keyId %s" % kid)
                if meta["KeyState"] != "Enabled":
                    raise AwsError("KMS.DisabledException", "%s is %s." % (meta["Arn"], meta["KeyState"]))
                kid = meta["Arn"]
            else:
                kid = "arn:aws:kms:%s:%s:key/aws-s3-default" % (ctx.region, ctx.account)
            extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kid)
        elif sse:
            extra["ServerSideEncryption"] = sse
        else:
            extra["ServerSideEncryption"] = "AES256"
        lock = {k: p[k] for k in ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus")
                if p.get(k) is not None}
        if lock:
            if not b["object_lock"]:
                raise AwsError("InvalidRequest", "Bucket is missing Object Lock Configuration")
            if p.get("ContentMD5") is None and not any(p.get(k) for k in (
                    "ChecksumSHA256", "ChecksumSHA1", "ChecksumCRC32", "ChecksumCRC32C")):
                raise AwsError("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
                               "Object requests with Object Lock parameters")
            if ("ObjectLockMode" in lock) != ("ObjectLockRetainUntilDate" in lock):
                raise AwsError("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                               "must both be supplied")
            if "ObjectLockRetainUntilDate" in lock:
                if to_epoch(lock["ObjectLockRetainUntilDate"]) <= ctx.now:
                    raise AwsError("InvalidArgument", "The retain until date must be in the future!")
                lock["ObjectLockRetainUntilDate"] = to_epoch(lock["ObjectLockRetainUntilDate"])
            extra.update(lock)
        old = b["objects"].get(p["Key"])
        if old is not None and old.get("ObjectLockMode") == "COMPLIANCE" and not b["versioning"]:
            raise AwsError("AccessDenied", "Access Denied because object protected by object lock.", 403)
        if b["versioning"]:
            extra["VersionId"] = rand_id(32)
        if p.get("ContentType"):
            extra["ContentType"] = p["ContentType"]
        if p.get("Metadata"):
            extra["Metadata"] = p["Metadata"]
        o = self._obj(body, extra, ctx.now)
        b["objects"][p["Key"]] = o
        return {"ETag": o["ETag"], "VersionId": o.get("VersionId"), "ChecksumSHA256": o.get("ChecksumSHA256"),
                "ServerSideEncryption": o.get("ServerSideEncryption"), "SSEKMSKeyId": o.get("SSEKMSKeyId")}

    def _head(self, o, p):
        out = {k: o.get(k) for k in ("ETag", "ContentLength", "LastModified", "ContentType", "VersionId",
                                     "ServerSideEncryption", "SSEKMSKeyId", "Metadata", "ObjectLockMode",
                                     "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus")}
        if p.get("ChecksumMode") == "ENABLED":
            out["ChecksumSHA256"] = o.get("ChecksumSHA256") or o["sha256"]
        return out

    def op_HeadObject(self, ctx, p):
        return self._head(self._get(ctx, p), p)

    def op_GetObject(self, ctx, p):
        o = self._get(ctx, p)
        return dict(self._head(o, p), Body=o["body"])

    def op_DeleteObject(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        o = b["objects"].get(p["Key"])
        if o is not None and o.get("ObjectLockMode") and to_epoch(o.get("ObjectLockRetainUntilDate", 0)) > ctx.now:
            raise AwsError("AccessDenied", "Access Denied because object protected by object lock.", 403)
        b["objects"].pop(p["Key"], None)
        return {}

    def _list(self, ctx, p, v2):
        b = self.bucket(ctx, p["Bucket"])
        pre = p.get("Prefix", "")
        delim = p.get("Delimiter")
        keys = sorted(k for k in b["objects"] if k.startswith(pre))
        after = p.get("ContinuationToken") or p.get("StartAfter") or p.get("Marker")
        if p.get("ContinuationToken"):
            after = base64.b64decode(after).decode()
        if after:
            keys = [k for k in keys if k > after]
        n = p.get("MaxKeys", 1000)
        contents, prefixes = [], []
        for k in keys:
            if len(contents) + len(prefixes) >= n:
                break
            if delim and delim in k[len(pre):]:
                cp = k[:len(pre) + k[len(pre):].index(delim) + len(delim)]
                if cp not in prefixes:
                    prefixes.append(cp)
                continue
            contents.append(k)
        last = max(contents + prefixes) if contents or prefixes else None
        trunc = last is not None and any(k > last and not (delim and any(k.startswith(c) for c in prefixes))
                                         for k in keys)
        objs = b["objects"]
        out = {"Name": p["Bucket"], "Prefix": pre, "MaxKeys": n, "IsTruncated": trunc, "Delimiter": delim,
               "Contents": [{"Key": k, "LastModified": objs[k]["LastModified"], "ETag": objs[k]["ETag"],
                             "Size": objs[k]["ContentLength"], "StorageClass": "STANDARD"} for k in contents],
               "CommonPrefixes": [{"Prefix": c} for c in prefixes] or None}
        if v2:
            out["KeyCount"] = len(contents) + len(prefixes)
            if p.get("ContinuationToken"):
                out["ContinuationToken"] = p["ContinuationToken"]
            if trunc:
                out["NextContinuationToken"] = base64.b64encode(last.encode()).decode()
        elif trunc:
            out["NextMarker"] = last
        return out

    def op_ListObjectsV2(self, ctx, p):
        return self._list(ctx, p, True)

    def op_ListObjects(self, ctx, p):
        return self._list(ctx, p, False)

    # ---- issue 19: public access (policy, ACL, tags, block public access) ----
    #
    # Seed keys per bucket: "policy" (a document, dict or JSON text),
    # "acl" ("private" | "public-read" | "public-read-write" |
    # "authenticated-read" or a Grants list), "tags" ({key: value}),
    # "public_access_block" ({setting: bool}). Assumption, as the responder
    # documents it: GetBucketPolicyStatus judges the policy text alone (an
    # Allow to "*" without a Condition is public); the block settings are
    # applied by the caller.

    OWNER_ID = "fakeaws-owner-canonical-id"
    ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
    AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

    def _canned(self, name):
        own = {"Grantee": {"Type": "CanonicalUser", "ID": self.OWNER_ID}, "Permission": "FULL_CONTROL"}
        group = {"public-read": [(self.ALL_USERS, "READ")],
                 "public-read-write": [(self.ALL_USERS, "READ"), (self.ALL_USERS, "WRITE")],
                 "authenticated-read": [(self.AUTH_USERS, "READ")], "private": []}.get(name)
        if group is None:
            raise AwsError("InvalidArgument", "Invalid canned ACL %s" % name)
        return [own] + [{"Grantee": {"Type": "Group", "URI": u}, "Permission": perm} for u, perm in group]

    def _seed_access(self, b, rec):
        pol = rec.get("policy")
        b["policy"] = json.dumps(pol) if isinstance(pol, dict) else pol
        acl = rec.get("acl", "private")
        b["acl"] = self._canned(acl) if isinstance(acl, str) else copy.deepcopy(acl)
        b["tags"] = dict(rec["tags"]) if rec.get("tags") is not None else None
        pab = rec.get("public_access_block")
        b["pab"] = {k: bool(pab.get(k, False)) for k in self.SETTINGS} if pab is not None else None

    def _account_pab(self, account):
        return self.world.services["s3control"].blocks.get(account) or {}

    def _effective(self, b, setting):
        return bool((b.get("pab") or {}).get(setting)) or bool(self._account_pab(b["account"]).get(setting))

    @staticmethod
    def policy_is_public(text):
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            return False
        st = doc.get("Statement", []) if isinstance(doc, dict) else []
        for x in st if isinstance(st, list) else [st]:
            if not isinstance(x, dict) or x.get("Effect") != "Allow" or x.get("Condition"):
                continue
            pr = x.get("Principal")
            aws = pr.get("AWS") if isinstance(pr, dict) else None
            if pr == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws):
                return True
        return False

    def _acl_is_public(self, grants):
        return any((g.get("Grantee") or {}).get("URI") in (self.ALL_USERS, self.AUTH_USERS) for g in grants)

    def op_GetBucketPolicy(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        if not b.get("policy"):
            raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", 404)
        return {"Policy": b["policy"]}

    def op_PutBucketPolicy(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        text = p["Policy"].decode() if isinstance(p["Policy"], bytes) else p["Policy"]
        try:
            json.loads(text)
        except ValueError:
            raise AwsError("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
        if self.policy_is_public(text) and self._effective(b, "BlockPublicPolicy"):
            raise AwsError("AccessDenied", "Access Denied", 403)
        b["policy"] = text
        return {}

    def op_DeleteBucketPolicy(self, ctx, p):
        self.bucket(ctx, p["Bucket"])["policy"] = None
        return {}

    def op_GetBucketPolicyStatus(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        if not b.get("policy"):
            raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", 404)
        return {"PolicyStatus": {"IsPublic": self.policy_is_public(b["policy"])}}

    def op_GetBucketAcl(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        return {"Owner": {"ID": self.OWNER_ID}, "Grants": copy.deepcopy(b["acl"])}

    def op_PutBucketAcl(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        if p.get("ACL"):
            grants = self._canned(p["ACL"])
        elif p.get("AccessControlPolicy"):
            grants = p["AccessControlPolicy"].get("Grants") or []
        else:
            raise AwsError("MissingSecurityHeader", "Your request was missing a required header")
        if self._acl_is_public(grants) and self._effective(b, "BlockPublicAcls"):
            raise AwsError("AccessDenied", "Access Denied", 403)
        b["acl"] = grants
        return {}

    def op_GetBucketTagging(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        if b.get("tags") is None:
            raise AwsError("NoSuchTagSet", "The TagSet does not exist", 404)
        return {"TagSet": [{"Key": k, "Value": v} for k, v in b["tags"].items()]}

    def op_PutBucketTagging(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        b["tags"] = {t["Key"]: t["Value"] for t in (p.get("Tagging") or {}).get("TagSet", [])}
        return {}

    def op_DeleteBucketTagging(self, ctx, p):
        self.bucket(ctx, p["Bucket"])["tags"] = None
        return {}

    def op_GetPublicAccessBlock(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        if b.get("pab") is None:
            raise AwsError("NoSuchPublicAccessBlockConfiguration",
                           "The public access block configuration was not found", 404)
        return {"PublicAccessBlockConfiguration": dict(b["pab"])}

    def op_PutPublicAccessBlock(self, ctx, p):
        b = self.bucket(ctx, p["Bucket"])
        # S3 requires Content-MD5 (or a flexible checksum) here and replaces the
        # whole configuration: a setting left out is false.
        if not ctx.headers.get("Content-MD5") and not any(
                k.lower().startswith("x-amz-checksum-") for k in ctx.headers.keys()):
            raise AwsError("InvalidRequest", "Missing required header for this request: Content-MD5")
        if ctx.headers.get("Content-MD5") and \
                base64.b64encode(hashlib.md5(ctx.body).digest()).decode() != ctx.headers.get("Content-MD5"):
            raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.")
        cfg = p.get("PublicAccessBlockConfiguration") or {}
        b["pab"] = {k: bool(cfg.get(k, False)) for k in self.SETTINGS}
        return {}

    def op_DeletePublicAccessBlock(self, ctx, p):
        self.bucket(ctx, p["Bucket"])["pab"] = None
        return {}
