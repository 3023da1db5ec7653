// An independent client for the fake's S3 conditional writes: the AWS SDK
// for JavaScript v3 (@aws-sdk/client-s3, which models IfNoneMatch on
// PutObject). Used by 53-task-quarantine.py when FBTEST_NODE_MODULES points
// at a node_modules holding it (npm i @aws-sdk/client-s3).
// Usage: node s3-conditional-write.mjs <endpoint> <bucket>; prints one JSON line.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH || ".", "x.js"));
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "AKIDFAKE", secretAccessKey: "fakesecret" },
  maxAttempts: 1,
});
const key = "sdk-v3/conditional";
const out = {};
const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "one", IfNoneMatch: "*" }));
out.first = first.$metadata.httpStatusCode;
try {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "two", IfNoneMatch: "*" }));
  out.second = [200, "replaced"];
} catch (e) {
  out.second = [e.$metadata?.httpStatusCode, e.name];
}
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
out.body = await got.Body.transformToString();
console.log(JSON.stringify(out));
