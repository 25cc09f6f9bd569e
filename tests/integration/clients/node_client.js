#!/usr/bin/env node
// Node's http/https through a proxy, with only the built-in modules.
//
// usage: node node_client.js PROXY URL
//
// http://  requests go in absolute-form to the proxy over a keep-alive
//          http.Agent (path = the whole URL, Host = the URL's authority).
// https:// requests use an https.Agent whose createConnection opens a
//          CONNECT tunnel with `net` and starts TLS in it with `tls`
//          (SNI = the URL's host; trust from NODE_EXTRA_CA_CERTS).
// Sends GET URL, then POST URL with a body streamed in three writes
// (chunked, no Content-Length), then GET URL again on the same agent; each
// must be 200 and echoed by the origin.  Prints "node: METHOD STATUS" per
// request and "node: ok"; exits 1 on any failure.
'use strict';
const http = require('http');
const https = require('https');
const net = require('net');
const tls = require('tls');

const [proxy, url] = process.argv.slice(2);
if (!proxy || !url) {
	console.error('usage: node node_client.js PROXY URL');
	process.exit(2);
}
const pi = proxy.lastIndexOf(':');
const proxyHost = proxy.slice(0, pi);
const proxyPort = Number(proxy.slice(pi + 1));
const u = new URL(url);
const isTLS = u.protocol === 'https:';
const port = Number(u.port) || (isTLS ? 443 : 80);

class TunnelAgent extends https.Agent {
	createConnection(options, cb) {
		const authority = `${u.hostname}:${port}`;
		const sock = net.connect(proxyPort, proxyHost);
		let buf = Buffer.alloc(0);
		const fail = (err) => { sock.destroy(); cb(err); };
		sock.once('error', fail);
		sock.on('connect', () => {
			sock.write(`CONNECT ${authority} HTTP/1.1\r\n` +
			    `Host: ${authority}\r\n\r\n`);
		});
		const onData = (d) => {
			buf = Buffer.concat([buf, d]);
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0)
				return;
			sock.removeListener('data', onData);
			sock.removeListener('error', fail);
			const status = buf.slice(0, end).toString().split(' ')[1];
			if (status !== '200')
				return fail(new Error(`CONNECT ${authority}: ` +
				    buf.slice(0, end).toString().split('\r\n')[0]));
			const rest = buf.slice(end + 4);
			if (rest.length)
				sock.unshift(rest);
			const t = tls.connect({
				socket: sock,
				servername: u.hostname,
				ALPNProtocols: ['http/1.1'],
			});
			t.once('secureConnect', () => cb(null, t));
			t.once('error', (err) => cb(err));
		};
		sock.on('data', onData);
		return undefined;
	}
}

const agent = isTLS ?
    new TunnelAgent({ keepAlive: true, maxSockets: 1 }) :
    new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, body) {
	return new Promise((resolve, reject) => {
		const opts = isTLS ? {
			host: u.hostname, port, path: u.pathname + u.search,
			method, agent,
		} : {
			host: proxyHost, port: proxyPort, path: u.href,
			method, agent, headers: { Host: u.host },
		};
		const mod = isTLS ? https : http;
		const req = mod.request(opts, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => resolve({
				status: res.statusCode,
				body: Buffer.concat(parts).toString(),
				socket: res.socket,
			}));
			res.on('error', reject);
		});
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		if (body) {
			req.setHeader('Content-Type', 'text/plain');
			for (const piece of body)
				req.write(piece);
		}
		req.end();
	});
}

async function main() {
	let ok = true;
	const sockets = new Set();
	const steps = [['GET', null], ['POST', ['one,', 'two,', 'three']],
	    ['GET', null]];
	for (const [method, body] of steps) {
		const r = await request(method, body);
		console.log(`node: ${method} ${r.status}`);
		sockets.add(r.socket);
		if (r.status !== 200) {
			console.log(`node: body ${r.body.slice(0, 300)}`);
			ok = false;
			continue;
		}
		const d = JSON.parse(r.body);
		if (d.method !== method || d.path !== u.pathname) {
			console.log(`node: origin saw ${d.method} ${d.path}`);
			ok = false;
		}
		if (body && d.body !== body.join('')) {
			console.log(`node: origin got body ${d.body}`);
			ok = false;
		}
	}
	if (sockets.size !== 1) {
		console.log(`node: ${sockets.size} connections, want 1 (keep-alive)`);
		ok = false;
	}
	agent.destroy();
	console.log(ok ? 'node: ok' : 'node: FAILED');
	process.exit(ok ? 0 : 1);
}

main().catch((e) => {
	console.log(`node: error ${e.message}`);
	process.exit(1);
});
