// Starts the fauxqs S3/SQS/SNS emulator for cairn's integration tests, bound to 127.0.0.1 only
// (the package's own CLI binds 0.0.0.0 on a fixed port). The port is chosen by the kernel and
// printed as "FAUXQS_LISTENING <port>". Exits when its standard input closes (the test died).
// SQS answers its query protocol too (sqs_query.mjs), like AWS: Debian's AWS CLI speaks it.
//
// Environment: FAUXQS_DEFAULT_REGION (default us-east-1), FAUXQS_LOGGER=true for request logs.
import { buildApp } from "fauxqs";
import { installSqsQueryProtocol } from "./sqs_query.mjs";

const app = buildApp({
  logger: process.env.FAUXQS_LOGGER === "true",
  defaultRegion: process.env.FAUXQS_DEFAULT_REGION || "us-east-1",
});
// SQS's query protocol as well as its JSON protocol, as AWS answers both (sqs_query.mjs).
installSqsQueryProtocol(app);
const address = await app.listen({ host: "127.0.0.1", port: 0 });
const port = new URL(address).port;
process.stdout.write(`FAUXQS_LISTENING ${port}\n`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
