/**
 * XML writer for EC2 Query responses. A response body is a plain object: keys are the model's locationNames
 * (`networkInterfaceId`, `groupSet`, …), arrays become `<item>` lists (every list in the shapes we serve uses
 * `<item>`), `undefined` members are omitted, empty arrays are written as `<name/>` like real EC2.
 */
export type XmlValue = string | number | boolean | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [element: string]: XmlValue;
}

const NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NEEDS_ESCAPE = /[&<>"']/;

export function escapeXml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : text;
}

function writeValue(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const item of value) writeValue('item', item, out);
    out.push(`</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    writeMembers(value, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`);
}

function writeMembers(object: XmlObject, out: string[]): void {
  for (const key in object) writeValue(key, object[key], out);
}

/** `<{Action}Response xmlns=…><requestId/>…</{Action}Response>` (EC2 has no `…Result` wrapper). */
export function successXml(action: string, requestId: string, body: XmlObject): string {
  const out: string[] = [
    XML_DECLARATION,
    `<${action}Response xmlns="${NAMESPACE}">`,
    `<requestId>${requestId}</requestId>`,
  ];
  writeMembers(body, out);
  out.push(`</${action}Response>`);
  return out.join('');
}

/** The EC2 error envelope: `<Response>` without a namespace, one `<Error>`, then `<RequestID>`. */
export function errorXml(code: string, message: string, requestId: string): string {
  return (
    XML_DECLARATION +
    `<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors>` +
    `<RequestID>${requestId}</RequestID></Response>`
  );
}
