// kafkajs against a secured Fjord listener: `node secure_client.js '<json>'`.
// The JSON names the broker, the SASL mechanism and credentials, the TLS files and the
// action: "roundtrip" produces 5 records and reads them back with a group; "connect"
// only connects an admin client. Prints one JSON line with the outcome.
const fs = require("fs");
const { Kafka, logLevel } = require("kafkajs");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const config = { clientId: "fjord-secure", brokers: [opts.broker], logLevel: logLevel.NOTHING,
                   retry: { retries: 1 }, connectionTimeout: 5000, authenticationTimeout: 5000 };
  if (opts.mechanism) {
    config.sasl = { mechanism: opts.mechanism.toLowerCase(), username: opts.username, password: opts.password };
  }
  if (opts.ca) {
    config.ssl = { ca: [fs.readFileSync(opts.ca, "utf8")] };
    if (opts.cert) {
      config.ssl.cert = fs.readFileSync(opts.cert, "utf8");
      config.ssl.key = fs.readFileSync(opts.key, "utf8");
    }
  }
  const kafka = new Kafka(config);
  if (opts.action === "connect") {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      console.log(JSON.stringify({ ok: true }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, name: err.name, message: err.message }));
    } finally {
      await admin.disconnect();
    }
    return;
  }
  const topic = opts.topic;
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}` })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out reading")), 30000);
    consumer.run({ eachMessage: async ({ message }) => {
      values.push(message.value.toString());
      if (values.length === 5) { clearTimeout(timer); resolve(); }
    } });
  });
  await consumer.disconnect();
  console.log(JSON.stringify({ ok: true, values }));
}

main().catch((err) => { console.log(JSON.stringify({ ok: false, name: err.name, message: err.message })); });
