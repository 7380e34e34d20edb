import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  checkMethod,
  checkPickRequest,
  checkStream,
  checkSubscriptionId,
  externalAllowed,
  pickDialogOptions,
} from './ipc-validation.ts';

it("accepts only the contract's method and stream names over IPC", () => {
  assert.equal(checkMethod('appliances.list'), 'appliances.list');
  assert.equal(checkStream('library.events'), 'library.events');
  for (const bad of [
    'appliances.nope',
    'library.events',
    '__proto__',
    '',
    42,
    null,
    { toString: () => 'appliances.list' },
  ]) {
    assert.throws(() => checkMethod(bad), /Unknown API method/, String(bad));
  }
  assert.throws(() => checkStream('appliances.list'), /Unknown API stream/);
  assert.equal(checkSubscriptionId('p12'), 'p12');
  for (const bad of ['', 'a b', 'x'.repeat(65), 7])
    assert.throws(() => checkSubscriptionId(bad), /Invalid subscription id/);
});

it('opens external links only for http(s) on the allowlist', () => {
  assert.equal(externalAllowed('http://127.0.0.1:8080/')?.port, '8080');
  assert.ok(externalAllowed('https://www.qemu.org/docs/'));
  for (const bad of [
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://evil.example/',
    'http://127.0.0.1.evil.example/',
    'not a url',
    3,
  ]) {
    assert.equal(externalAllowed(bad), undefined, String(bad));
  }
});

it('the native path chooser takes exactly {kind: "file" | "folder"}', () => {
  assert.deepEqual(checkPickRequest({ kind: 'file' }), { kind: 'file' });
  assert.deepEqual(checkPickRequest({ kind: 'folder' }), { kind: 'folder' });
  for (const bad of [
    null,
    'file',
    ['file'],
    {},
    { kind: 'directory' },
    { kind: 'file', defaultPath: '/etc' },
    { kind: 'folder', properties: ['openFile', 'multiSelections'] },
    Object.assign(Object.create({ kind: 'file' }) as object, {}),
  ]) {
    assert.throws(() => checkPickRequest(bad), /Invalid path request/, JSON.stringify(bad));
  }
  assert.deepEqual(pickDialogOptions({ kind: 'file' }).properties, ['openFile', 'dontAddToRecent']);
  assert.deepEqual(pickDialogOptions({ kind: 'folder' }).properties, ['openDirectory', 'dontAddToRecent']);
});
