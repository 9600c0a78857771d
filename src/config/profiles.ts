/**
 * Profiles: named clusters in one config (`profiles: {dev, staging, prod}`), chosen by
 * `--profile`, then `ES_PROFILE`, then the config's `defaultProfile`. A profile's connection
 * settings replace the top-level ones; its services are merged into the top-level services. A
 * `readOnly: true` profile refuses every write (`readOnlyRefusal`, one check for every command that
 * writes) unless `--allow-write`.
 */
import { ConfigError, nearMatches } from '../errors.js'
import type { Provenance } from './interpolate.js'
import type { ConfigDocument, ConnectionDocument, ProfileInUse, ResolvedConfig, ServiceDocument } from './types.js'
import { type ConfigSite, configProblem } from './validate.js'

/** The connection settings a profile can replace. */
export const CONNECTION_KEYS = [
  'brokers',
  'clientId',
  'connectionTimeout',
  'requestTimeout',
  'ssl',
  'sasl',
  'schemaRegistry',
  'warnings',
] as const satisfies ReadonlyArray<keyof ConnectionDocument>

export interface ProfileRequest {
  /** `--profile`. */
  flag?: string
  /** `ES_PROFILE`. */
  env?: string
}

/** The profile to use, or undefined when none is asked for and there is no default. */
export function chooseProfile(
  document: ConfigDocument,
  request: ProfileRequest,
  site: ConfigSite,
): ProfileInUse | undefined {
  const names = Object.keys(document.profiles ?? {})
  if (document.defaultProfile !== undefined && !names.includes(document.defaultProfile)) {
    const near = nearMatches(document.defaultProfile, names, 1)
    throw configProblem(site, ['defaultProfile'], `defaultProfile names no profile ("${document.defaultProfile}")`, {
      suggestion: names.length
        ? `${near.length ? `did you mean ${near[0]}? ` : ''}profiles: ${names.join(', ')}`
        : 'define it under profiles:',
    })
  }
  const asked =
    request.flag !== undefined
      ? { name: request.flag, chosenBy: 'flag' as const, by: '--profile' }
      : request.env
        ? { name: request.env, chosenBy: 'env' as const, by: 'ES_PROFILE' }
        : document.defaultProfile !== undefined
          ? { name: document.defaultProfile, chosenBy: 'default' as const, by: 'defaultProfile' }
          : undefined
  if (!asked) return undefined
  const profile = document.profiles?.[asked.name]
  if (!profile) {
    const near = nearMatches(asked.name, names, 1)
    throw new ConfigError(
      `unknown profile "${asked.name}" (${asked.by})${site.file ? ` in ${site.file}` : ' (no config file found)'}`,
      {
        code: 'UNKNOWN_PROFILE',
        where: { profile: asked.name, ...(site.file ? { file: site.file } : {}) },
        suggestion: names.length
          ? `${near.length ? `did you mean ${near[0]}? ` : ''}profiles: ${names.join(', ')}`
          : 'the config defines no profiles: add profiles: (see README)',
      },
    )
  }
  return {
    name: asked.name,
    chosenBy: asked.chosenBy,
    isDefault: asked.name === document.defaultProfile,
    readOnly: profile.readOnly === true,
    ...(profile.description ? { description: profile.description } : {}),
  }
}

/** The top-level connection settings with the profile's in their place (provenance follows). */
export function profileConnection(
  document: ConfigDocument,
  profile: ProfileInUse | undefined,
  provenance: Provenance,
): ConnectionDocument {
  const settings: ConnectionDocument = {}
  const profileDocument = profile ? document.profiles?.[profile.name] : undefined
  for (const key of CONNECTION_KEYS) {
    if (profileDocument?.[key] !== undefined) {
      Object.assign(settings, { [key]: profileDocument[key] })
      provenance.alias([key], ['profiles', profile!.name, key])
    } else if (document[key] !== undefined) {
      Object.assign(settings, { [key]: document[key] })
    }
  }
  return settings
}

/** The services with the profile's overrides merged in (objects merge; lists and values replace). */
export function profileServices(
  document: ConfigDocument,
  profile: ProfileInUse | undefined,
  site: ConfigSite,
): Record<string, ServiceDocument> {
  const services = { ...(document.services ?? {}) }
  const overrides = profile ? (document.profiles?.[profile.name]?.services ?? {}) : {}
  for (const [name, override] of Object.entries(overrides)) {
    if (!(name in services)) {
      const near = nearMatches(name, Object.keys(services), 1)
      throw configProblem(
        site,
        ['profiles', profile!.name, 'services', name],
        `profile ${profile!.name} overrides service "${name}", which the config does not define`,
        { key: true, suggestion: near.length ? `did you mean ${near[0]}?` : 'define it under services:' },
      )
    }
    services[name] = deepMerge(services[name], override) as ServiceDocument
  }
  return services
}

/** `override` merged into `base`: objects key by key, everything else replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge(base[key], value)
  return merged
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * The refusal of a write under a read-only profile, or undefined when writing is allowed here.
 * `action` says what would be written ("send DepositFunds to bank.commands"). Every command that
 * writes calls this before doing anything (through EsCommand.guardWrite).
 */
export function readOnlyRefusal(config: Pick<ResolvedConfig, 'profile'>, action: string): ConfigError | undefined {
  const profile = config.profile
  if (!profile?.readOnly) return undefined
  return new ConfigError(`profile ${profile.name} is read-only: refusing to ${action}`, {
    code: 'READ_ONLY_PROFILE',
    where: { profile: profile.name },
    suggestion: 'add --allow-write to write anyway (it asks for confirmation; --yes in scripts)',
  })
}
