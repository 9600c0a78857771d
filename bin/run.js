#!/usr/bin/env node
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
// Every command has finished its work here (streams flushed synchronously on Linux pipes and files);
// leave no lingering client socket or timer able to keep the process alive.
process.exit(process.exitCode ?? 0)
