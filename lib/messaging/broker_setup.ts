/**
 * The broker as the shop needs it: its vhost, its topology (the exchanges,
 * each service's queue and error queue with their bindings) and one user
 * per service with the narrowest permissions ({@linkcode grantsOf}).
 * Applied through the management API so that running it again changes
 * only what is not right, or written as a definitions file the broker
 * loads at boot.
 *
 * @module
 */
import { type BrokerNeeds, type Grants, grantsOf } from "./grants.ts";
import { Management } from "./management.ts";
import { hashPassword, passwordMatches } from "./password_hash.ts";
import {
  bindingsOf,
  type DeclareOptions,
  errorQueueOf,
  ERRORS_EXCHANGE,
  queueArguments,
  type QueueBinding,
} from "./topology.ts";

/** A user of the plan: a service's, with its password and permissions. */
export interface PlannedUser {
  /** The service it is for. */
  service: string;
  /** The user's name. */
  name: string;
  /** Its password (never printed). */
  password: string;
  /** What it may do on the vhost. */
  grants: Grants;
}

/** Everything the shop needs on one vhost. */
export interface SetupPlan {
  vhost: string;
  exchanges: string[];
  queues: { name: string; arguments: Record<string, unknown> }[];
  bindings: QueueBinding[];
  users: PlannedUser[];
}

/** Options of {@linkcode setupPlan}. */
export interface SetupPlanOptions extends DeclareOptions {
  /** The vhost. */
  vhost: string;
  /** What each service does on the broker, by service. */
  needs: Record<string, BrokerNeeds>;
  /** Each service's user's name and password, by service. */
  credentials: Record<string, { name: string; password: string }>;
}

/** The plan for `options.needs`: what to declare, and whom to grant what. */
export function setupPlan(options: SetupPlanOptions): SetupPlan {
  const { vhost, needs, credentials } = options;
  const exchanges = new Set<string>();
  const queues: SetupPlan["queues"] = [];
  const bindings: QueueBinding[] = [];
  for (const need of Object.values(needs)) {
    exchanges.add(need.exchange);
    for (const spec of need.consumes ?? []) {
      const args = queueArguments(spec.queue, options);
      exchanges.add(spec.exchange);
      exchanges.add(ERRORS_EXCHANGE);
      queues.push({ name: spec.queue, arguments: args.queue });
      queues.push({
        name: errorQueueOf(spec.queue),
        arguments: args.errorQueue,
      });
      bindings.push(...bindingsOf(spec));
    }
  }
  const users = Object.entries(needs).map(([service, need]) => ({
    service,
    ...credentials[service],
    grants: grantsOf(need),
  }));
  return { vhost, exchanges: [...exchanges], queues, bindings, users };
}

/** What applying a plan did to one thing: made it, changed it, or found it right. */
export interface SetupChange {
  what: string;
  outcome: "made" | "changed" | "right";
}

interface ApiQueue {
  durable: boolean;
  arguments: Record<string, unknown>;
}
interface ApiUser {
  password_hash: string;
  hashing_algorithm: string;
  tags: string | string[];
}
interface ApiPermissions {
  configure: string;
  write: string;
  read: string;
}
interface ApiTopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/**
 * Applies `plan` through the management API, changing only what is not as
 * planned: a user whose password is already the planned one keeps it.
 *
 * @returns what it found and did, one entry per thing.
 * @throws {ManagementError} naming the request that failed.
 */
export async function applySetup(
  api: Management,
  plan: SetupPlan,
): Promise<SetupChange[]> {
  const { path } = Management;
  const { vhost } = plan;
  const changes: SetupChange[] = [];
  const note = (what: string, outcome: SetupChange["outcome"]) =>
    changes.push({ what, outcome });

  if (await api.get(path("vhosts", vhost)) === undefined) {
    await api.put(path("vhosts", vhost), {});
    note(`vhost "${vhost}"`, "made");
  } else note(`vhost "${vhost}"`, "right");

  for (const exchange of plan.exchanges) {
    const what = `exchange "${exchange}"`;
    const found = await api.get<{ type: string }>(
      path("exchanges", vhost, exchange),
    );
    if (found === undefined) {
      await api.put(path("exchanges", vhost, exchange), {
        type: "topic",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      });
      note(what, "made");
    } else note(what, "right");
  }

  for (const queue of plan.queues) {
    const what = `queue "${queue.name}"`;
    const found = await api.get<ApiQueue>(path("queues", vhost, queue.name));
    // A queue there already is kept: declaring it with other arguments
    // would be refused, and the services say so in QUEUE_TYPE's words.
    if (found === undefined) {
      await api.put(path("queues", vhost, queue.name), {
        durable: true,
        auto_delete: false,
        arguments: queue.arguments,
      });
      note(what, "made");
    } else note(what, "right");
  }

  for (const { exchange, queue, key } of plan.bindings) {
    const what = `binding "${exchange}" → "${queue}" (${key})`;
    const route = path("bindings", vhost, "e", exchange, "q", queue);
    const found = await api.get<{ routing_key: string }[]>(route) ?? [];
    if (found.some((binding) => binding.routing_key === key)) {
      note(what, "right");
    } else {
      await api.post(route, { routing_key: key, arguments: {} });
      note(what, "made");
    }
  }

  for (const user of plan.users) {
    const what = `user "${user.name}"`;
    const found = await api.get<ApiUser>(path("users", user.name));
    const tags = found === undefined
      ? []
      : Array.isArray(found.tags)
      ? found.tags
      : found.tags.split(",").filter(Boolean);
    if (
      found !== undefined && tags.length === 0 &&
      passwordMatches(
        user.password,
        found.password_hash,
        found.hashing_algorithm,
      )
    ) {
      note(what, "right");
    } else {
      await api.put(path("users", user.name), {
        password: user.password,
        tags: "",
      });
      note(what, found === undefined ? "made" : "changed");
    }

    const { configure, write, read, topics } = user.grants;
    const permissions = `permissions of "${user.name}" on "${vhost}"`;
    const had = await api.get<ApiPermissions>(
      path("permissions", vhost, user.name),
    );
    if (
      had?.configure === configure && had.write === write && had.read === read
    ) {
      note(permissions, "right");
    } else {
      await api.put(path("permissions", vhost, user.name), {
        configure,
        write,
        read,
      });
      note(permissions, had === undefined ? "made" : "changed");
    }

    const topicWhat = `topic permissions of "${user.name}" on "${vhost}"`;
    const hadTopics = await api.get<ApiTopicPermission[]>(
      path("topic-permissions", vhost, user.name),
    ) ?? [];
    const same = hadTopics.length === topics.length &&
      topics.every((topic) =>
        hadTopics.some((had) =>
          had.exchange === topic.exchange && had.write === topic.write &&
          had.read === topic.read
        )
      );
    if (same) {
      note(topicWhat, "right");
    } else {
      // A topic permission on an exchange it no longer uses would stay.
      for (const had of hadTopics) {
        if (!topics.some((topic) => topic.exchange === had.exchange)) {
          await api.delete(
            path("topic-permissions", vhost, user.name, had.exchange),
          );
        }
      }
      for (const topic of topics) {
        await api.put(path("topic-permissions", vhost, user.name), topic);
      }
      note(topicWhat, hadTopics.length === 0 ? "made" : "changed");
    }
  }
  return changes;
}

/** An administrator to put in a definitions file, since a broker that loads one makes no default user. */
export interface DefinitionsAdmin {
  name: string;
  password: string;
}

/**
 * The plan as a definitions file (`load_definitions` in rabbitmq.conf):
 * the users with salted hashes, never their passwords.
 */
export function definitionsOf(
  plan: SetupPlan,
  admin?: DefinitionsAdmin,
): Record<string, unknown> {
  const { vhost } = plan;
  const user = (name: string, password: string, tags: string[]) => ({
    name,
    password_hash: hashPassword(password),
    hashing_algorithm: "rabbit_password_hashing_sha256",
    tags,
    limits: {},
  });
  return {
    users: [
      ...admin ? [user(admin.name, admin.password, ["administrator"])] : [],
      ...plan.users.map((planned) => user(planned.name, planned.password, [])),
    ],
    vhosts: [{ name: vhost }],
    permissions: [
      ...admin
        ? [{
          user: admin.name,
          vhost,
          configure: ".*",
          write: ".*",
          read: ".*",
        }]
        : [],
      ...plan.users.map(({ name, grants }) => ({
        user: name,
        vhost,
        configure: grants.configure,
        write: grants.write,
        read: grants.read,
      })),
    ],
    topic_permissions: plan.users.flatMap(({ name, grants }) =>
      grants.topics.map((topic) => ({ user: name, vhost, ...topic }))
    ),
    exchanges: plan.exchanges.map((name) => ({
      name,
      vhost,
      type: "topic",
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: plan.queues.map((queue) => ({
      name: queue.name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: queue.arguments,
    })),
    bindings: plan.bindings.map(({ exchange, queue, key }) => ({
      source: exchange,
      vhost,
      destination: queue,
      destination_type: "queue",
      routing_key: key,
      arguments: {},
    })),
  };
}
