// Runs in: plain Node (core). The JSON qemu-img prints (`info`, `check`),
// as zod schemas, and reading it with an error a person can act on.
import * as z from 'zod';
import { XrayError } from '../../shared/errors';

/**
 * buildSchemas makes the schemas of qemu-img's JSON. They are built on first
 * use: every command loads this module, few run qemu-img, and building zod
 * schemas costs start-up time.
 */
function buildSchemas() {
  const snapshotSchema = z.object({
    id: z.string(),
    name: z.string(),
    'vm-state-size': z.number(),
    'date-sec': z.number(),
    'date-nsec': z.number(),
    'vm-clock-sec': z.number(),
    'vm-clock-nsec': z.number(),
    icount: z.number().optional(),
  });

  const extentSchema = z.object({
    filename: z.string(),
    format: z.string().optional(),
    'virtual-size': z.number().optional(),
  });

  const imageInfo = z.object({
    filename: z.string(),
    format: z.string(),
    'virtual-size': z.number(),
    'actual-size': z.number().optional(),
    'cluster-size': z.number().optional(),
    'dirty-flag': z.boolean().optional(),
    encrypted: z.boolean().optional(),
    'backing-filename': z.string().optional(),
    'full-backing-filename': z.string().optional(),
    'backing-filename-format': z.string().optional(),
    snapshots: z.array(snapshotSchema).optional(),
    'format-specific': z
      .object({
        type: z.string(),
        data: z
          .object({
            corrupt: z.boolean().optional(),
            'data-file': z.string().optional(),
            encrypt: z.unknown().optional(),
            extents: z.array(extentSchema).optional(),
          })
          .optional(),
      })
      .optional(),
  });

  const check = z.object({
    filename: z.string(),
    format: z.string(),
    'check-errors': z.number(),
    corruptions: z.number().optional(),
    leaks: z.number().optional(),
    'image-end-offset': z.number().optional(),
  });
  return { snapshot: snapshotSchema, imageInfo, check };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/** imageInfoSchema reads one image of `qemu-img info --output=json`. */
export function imageInfoSchema(): ReturnType<typeof buildSchemas>['imageInfo'] {
  schemas ??= buildSchemas();
  return schemas.imageInfo;
}

/** checkSchema reads `qemu-img check --output=json`. */
export function checkSchema(): ReturnType<typeof buildSchemas>['check'] {
  schemas ??= buildSchemas();
  return schemas.check;
}

/** ImageSnapshot is one internal snapshot `qemu-img info` lists. */
export type ImageSnapshot = z.infer<ReturnType<typeof buildSchemas>['snapshot']>;
/** ImageInfo is what `qemu-img info --output=json` says about an image. */
export type ImageInfo = z.infer<ReturnType<typeof imageInfoSchema>>;
/** CheckResult is what `qemu-img check --output=json` found. */
export type CheckResult = z.infer<ReturnType<typeof checkSchema>>;

/** parseJson reads what qemu-img printed for `path` as JSON, or says it is not. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new XrayError('qemu', `qemu-img printed output for ${path} that is not JSON; check that it is QEMU's qemu-img.`, {
      cause: err,
    });
  }
}

/** parseWith checks qemu-img's JSON for `path` against `schema`. */
export function parseWith<T>(schema: z.ZodType<T>, json: unknown, path: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new XrayError('qemu', `qemu-img described ${path} in a form Xray does not understand: ${parsed.error.issues[0]?.message ?? 'unknown shape'}.`);
  }
  return parsed.data;
}
