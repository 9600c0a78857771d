// kafkajs's internal modules, which its package types do not describe: typed where they are used
// (src/kafka/kafkajs-internals.ts).
declare module 'kafkajs/src/cluster/index.js'
declare module 'kafkajs/src/loggers/index.js'
declare module 'kafkajs/src/network/socketFactory.js'
declare module 'kafkajs/src/protocol/error.js'
declare module 'kafkajs/src/protocol/requests/index.js'
