/**
 * The local S3 emulator's XML, without an XML library: answers built by hand (escaped), and the one
 * XML body it reads (DeleteObjects) parsed by a tight parser of its own.
 */
import type { ServerResponse } from 'node:http';
import { notImplemented, badRequest, type S3Error } from './errors.js';

export const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escapes text for XML 1.0; characters it cannot hold at all become U+FFFD. */
export function xml(s: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"']/g, (c) => entities[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

/** What every XML answer starts with. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function sendXml(res: ServerResponse, status: number, body: string): void {
  const bytes = Buffer.from(`${XML_DECLARATION}${body}`);
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': bytes.length }).end(bytes);
}

/** S3's `<Error>` document for `e`, its details as elements after the message. */
export function errorXml(e: Pick<S3Error, 'code' | 'message'> & { readonly detail?: S3Error['detail'] }): string {
  return `<Error><Code>${xml(e.code)}</Code><Message>${xml(e.message)}</Message>${Object.entries(e.detail ?? {})
    .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
    .join('')}</Error>`;
}

const malformedXml = () => badRequest('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');

/**
 * Parses DeleteObjects' body: `<Delete>[<Quiet>true|false</Quiet>]<Object><Key>…</Key></Object>…</Delete>`
 * (1 to 1000 objects), with the five predefined entities and character references. Anything else
 * (DOCTYPE, comments, CDATA, other elements, text between elements) is MalformedXML.
 */
export function parseDeleteXml(body: Buffer): { keys: string[]; quiet: boolean } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw malformedXml();
  }
  text = text.replace(/^\uFEFF?\s*(<\?xml\s[^<>?]*\?>)?/, '');
  const parents: Record<string, string> = { Delete: '', Object: 'Delete', Quiet: 'Delete', Key: 'Object', VersionId: 'Object' };
  const stack: string[] = [];
  const keys: string[] = [];
  let quiet = false;
  let sawRoot = false;
  let value = '';
  let key: string | undefined;
  const token = /<(\/?)([A-Za-z]+)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/y;
  while (token.lastIndex < text.length) {
    const m = token.exec(text);
    if (!m) throw malformedXml();
    const [, close, name, attrs, selfClosing, chars] = m;
    if (chars !== undefined) {
      if (['Key', 'Quiet', 'VersionId'].includes(stack.at(-1) ?? '')) value += decodeEntities(chars);
      else if (chars.trim() !== '') throw malformedXml();
      continue;
    }
    if (name === undefined || (close && (attrs || selfClosing))) throw malformedXml();
    if (!close) {
      if (parents[name] !== (stack.at(-1) ?? '') || (name === 'Delete' && sawRoot)) throw malformedXml();
      sawRoot = true;
      stack.push(name);
      value = '';
      if (name === 'Object') key = undefined;
      if (!selfClosing) continue;
    } else if (stack.at(-1) !== name) {
      throw malformedXml();
    }
    stack.pop();
    if (name === 'Key') {
      if (key !== undefined) throw malformedXml();
      key = value;
    } else if (name === 'Object') {
      if (key === undefined || keys.length >= 1000) throw malformedXml();
      keys.push(key);
    } else if (name === 'Quiet') {
      if (!/^\s*(true|false)\s*$/.test(value)) throw malformedXml();
      quiet = value.trim() === 'true';
    } else if (name === 'VersionId') {
      throw notImplemented('versioned deletes (VersionId in DeleteObjects)');
    }
  }
  if (stack.length > 0 || keys.length === 0) throw malformedXml();
  return { keys, quiet };
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));|&/g, (_all, hex?: string, dec?: string, name?: string) => {
    if (name) return named[name] as string;
    const cp = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? Number(dec) : -1;
    if (cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw malformedXml();
    return String.fromCodePoint(cp);
  });
}
