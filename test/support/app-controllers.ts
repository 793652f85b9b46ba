// The controllers a Nest module tree registers, read from the modules' own metadata (no app):
// the same classes DiscoveryService hands DocsController when the app starts.
import 'reflect-metadata';
import type { Type } from '@nestjs/common';

type ModuleRef = Type | { module: Type; controllers?: Type[]; imports?: unknown[] } | Promise<unknown> | { forwardRef: () => unknown };

export function controllersOf(root: Type): Type[] {
  const out = new Set<Type>();
  const seen = new Set<unknown>();
  const visit = (ref: ModuleRef | undefined): void => {
    if (!ref || seen.has(ref) || ref instanceof Promise) return;
    seen.add(ref);
    if (typeof ref === 'object' && 'forwardRef' in ref) return visit(ref.forwardRef() as ModuleRef);
    const cls = typeof ref === 'function' ? ref : ref.module;
    const dynamic: { controllers?: Type[]; imports?: unknown[] } = typeof ref === 'function' ? {} : ref;
    for (const c of [...((Reflect.getMetadata('controllers', cls) as Type[] | undefined) ?? []), ...(dynamic.controllers ?? [])]) out.add(c);
    for (const m of [...((Reflect.getMetadata('imports', cls) as ModuleRef[] | undefined) ?? []), ...((dynamic.imports ?? []) as ModuleRef[])]) visit(m);
  };
  visit(root);
  return [...out];
}
