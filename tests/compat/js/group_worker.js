// One kafkajs consumer of a group, driven by a test over stdin/stdout (see ../group_worker.py
// for the line protocol): it reports its assignment, each record, and each acknowledged commit;
// "close" on stdin disconnects it cleanly (leaving the group).
// Usage: node group_worker.js BOOTSTRAP GROUP TOPIC
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, group, topic] = process.argv.slice(2);
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

async function main() {
  const kafka = new Kafka({ clientId: "fjord-kafkajs", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  // A short fetch wait, so heartbeats (sent between fetches) and disconnect are not held up.
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500,
                                    maxWaitTimeInMs: 500 });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const ps = (payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
    emit({ e: "assigned", ps });
  });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await consumer.disconnect();
    emit({ e: "closed" });
    process.exit(0);
  };
  process.stdin.on("data", (chunk) => { if (chunk.toString().includes("close")) close(); });
  process.stdin.on("end", close);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const offset = Number(message.offset);
      emit({ e: "consumed", p: partition, o: offset });
      try {
        await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
        emit({ e: "committed", p: partition, o: offset + 1 });
      } catch (err) {
        emit({ e: "commit_failed", p: partition, o: offset + 1, error: String(err) });
      }
    },
  });
}

main().catch((err) => { emit({ e: "error", error: String(err) }); process.exit(1); });
