// Descriptors for gRPC server reflection (grpcurl describe, calls through reflection). proto-loader builds
// them with protobufjs, which writes a field's or method's type as it was spelled in the .proto file
// ("config.core.v3.Metadata", relative to the enclosing scope) where descriptors must hold the fully
// qualified name (".envoy.config.core.v3.Metadata"), and it renames fields to camelCase unless told to keep
// them; it names map entry types its own way and writes reserved ranges with the end included; nor does it list a file's imports, which reflection follows to send the files a descriptor needs.
// Clients that resolve descriptors strictly (Go's protoreflect, so grpcurl) refuse such files; here every
// type reference is resolved by protobuf's scoping rules, each file lists the files its references need, and
// the field names are kept as declared.
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { protoDir, protoFiles } from './proto.js';

interface MessageProto {
  name?: string;
  field?: { name?: string; typeName?: string }[];
  options?: { mapEntry?: boolean };
  reservedRange?: { start?: number; end?: number }[];
  nestedType?: MessageProto[];
  enumType?: { name?: string }[];
}

interface FileProto {
  name?: string;
  dependency?: string[];
  package?: string;
  messageType?: MessageProto[];
  enumType?: { name?: string }[];
  service?: { method?: { inputType?: string; outputType?: string }[] }[];
}

const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: { decode(b: Uint8Array): FileProto; encode(f: FileProto): { finish(): Uint8Array } } }).FileDescriptorProto;

/** The package definition ReflectionService serves, with descriptors that resolve. */
export function reflectionDefinition(): protoLoader.PackageDefinition {
  const definition = protoLoader.loadSync(protoFiles, { includeDirs: [protoDir], keepCase: true });
  const files = new Map<string, FileProto>();
  for (const entry of Object.values(definition)) {
    for (const bytes of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = FileDescriptorProto.decode(bytes);
      if (file.name && !files.has(file.name)) files.set(file.name, file);
    }
  }
  for (const file of files.values()) fixMessages(file.messageType);
  /** Fully qualified type name → the file declaring it. */
  const known = new Map<string, string>();
  for (const file of files.values()) declare(file, known);
  const fixed = new Map<string, Buffer>();
  for (const [name, file] of files) {
    qualify(file, known);
    fixed.set(name, Buffer.from(FileDescriptorProto.encode(file).finish()));
  }
  for (const entry of Object.values(definition)) {
    const withFiles = entry as { fileDescriptorProtos?: Buffer[] };
    if (withFiles.fileDescriptorProtos) withFiles.fileDescriptorProtos = withFiles.fileDescriptorProtos.map((bytes) => fixed.get(FileDescriptorProto.decode(bytes).name!)!);
  }
  return definition;
}

/**
 * protobufjs names a map field's entry type after the field ("Fields"); protoc, and clients that check it,
 * want the field name in CamelCase with "Entry" ("request_headers" → "RequestHeadersEntry"). Reserved
 * ranges are also put right.
 */
function fixMessages(messages: MessageProto[] | undefined): void {
  for (const m of messages ?? []) {
    for (const entry of m.nestedType ?? []) {
      if (!entry.options?.mapEntry) continue;
      const field = m.field?.find((f) => f.typeName === entry.name || f.typeName?.endsWith(`.${entry.name}`));
      if (!field?.name) continue;
      const name = field.name.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('') + 'Entry';
      entry.name = name;
      field.typeName = name;
    }
    // protobufjs writes a message's reserved ranges with the end included; descriptors exclude it.
    for (const range of m.reservedRange ?? []) if (range.end !== undefined) range.end += 1;
    fixMessages(m.nestedType);
  }
}

const scopeOf = (file: FileProto) => (file.package ? `.${file.package}` : '');

/** Every message and enum a file declares, by fully qualified name. */
function declare(file: FileProto, known: Map<string, string>): void {
  const messages = (scope: string, list: MessageProto[] | undefined) => {
    for (const m of list ?? []) {
      const name = `${scope}.${m.name}`;
      known.set(name, file.name!);
      for (const e of m.enumType ?? []) known.set(`${name}.${e.name}`, file.name!);
      messages(name, m.nestedType);
    }
  };
  for (const e of file.enumType ?? []) known.set(`${scopeOf(file)}.${e.name}`, file.name!);
  messages(scopeOf(file), file.messageType);
}

/** protobuf's rule: a relative name is looked up in the innermost scope first, then each enclosing one. */
function resolve(name: string, scope: string, known: Map<string, string>): string {
  if (name.startsWith('.')) return name;
  for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf('.')))) {
    const candidate = `${s}.${name}`;
    if (known.has(candidate)) return candidate;
    if (s === '') return name;
  }
}

function qualify(file: FileProto, known: Map<string, string>): void {
  const needs = new Set<string>();
  const qualified = (name: string, scope: string) => {
    const full = resolve(name, scope, known);
    const declaredIn = known.get(full);
    if (declaredIn && declaredIn !== file.name) needs.add(declaredIn);
    return full;
  };
  const messages = (scope: string, list: MessageProto[] | undefined) => {
    for (const m of list ?? []) {
      const inner = `${scope}.${m.name}`;
      for (const field of m.field ?? []) if (field.typeName) field.typeName = qualified(field.typeName, inner);
      messages(inner, m.nestedType);
    }
  };
  messages(scopeOf(file), file.messageType);
  for (const service of file.service ?? []) {
    for (const method of service.method ?? []) {
      if (method.inputType) method.inputType = qualified(method.inputType, scopeOf(file));
      if (method.outputType) method.outputType = qualified(method.outputType, scopeOf(file));
    }
  }
  file.dependency = [...new Set([...(file.dependency ?? []), ...needs])].sort();
}
