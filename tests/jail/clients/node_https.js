#!/usr/bin/env node
// One HTTPS GET from node, which (v20) ignores HTTPS_PROXY by itself.
//
// usage: node node_https.js URL direct|proxy
//   direct  https.get straight to the URL's host (nsjail: the connection is
//           redirected to the proxy, which intercepts TLS by SNI)
//   proxy   a CONNECT tunnel through the proxy named in HTTPS_PROXY (or
//           https_proxy), made with `net`, then TLS in it with `tls`
// Trust comes from NODE_EXTRA_CA_CERTS.  Prints "status=N" and the body;
// exits 0 once a response arrived (whatever its status), 1 otherwise.
'use strict';
const https = require('https');
const net = require('net');
const tls = require('tls');

const [url, mode] = process.argv.slice(2);
if (!url || (mode !== 'direct' && mode !== 'proxy')) {
	console.error('usage: node node_https.js URL direct|proxy');
	process.exit(2);
}
const target = new URL(url);
const port = Number(target.port) || 443;

function tunnel(options, cb) {
	const p = new URL(process.env.HTTPS_PROXY || process.env.https_proxy);
	const authority = `${target.hostname}:${port}`;
	const raw = net.connect(Number(p.port) || 80, p.hostname);
	let head = Buffer.alloc(0);
	const onError = (e) => cb(e);
	raw.on('error', onError);
	raw.on('connect', () => raw.write(`CONNECT ${authority} HTTP/1.1\r\n` +
	    `Host: ${authority}\r\n\r\n`));
	const onData = (d) => {
		head = Buffer.concat([head, d]);
		const end = head.indexOf('\r\n\r\n');
		if (end === -1)
			return;
		raw.removeListener('data', onData);
		raw.removeListener('error', onError);
		const line = head.slice(0, end).toString().split('\r\n')[0];
		if (!/^HTTP\/1\.[01] 200/.test(line)) {
			// Refused tunnels are answered like requests: report it.
			console.log(`status=${line.split(' ')[1]}`);
			console.log(head.slice(end + 4).toString());
			raw.destroy();
			process.exit(0);
		}
		const rest = head.slice(end + 4);
		if (rest.length)
			raw.unshift(rest);
		cb(null, tls.connect({socket: raw, servername: target.hostname,
		    ALPNProtocols: ['http/1.1']}));
	};
	raw.on('data', onData);
}

class TunnelAgent extends https.Agent {
	createConnection(options, cb) {
		tunnel(options, cb);
	}
}

const opts = mode === 'proxy' ? {agent: new TunnelAgent({keepAlive: false})}
    : {};
const req = https.get(url, opts, (res) => {
	let body = '';
	res.setEncoding('utf8');
	res.on('data', (c) => { body += c; });
	res.on('end', () => {
		console.log(`status=${res.statusCode}`);
		console.log(body);
		process.exit(0);
	});
});
req.setTimeout(8000, () => req.destroy(new Error('timeout')));
req.on('error', (e) => {
	console.log(`error=${e.message}`);
	process.exit(1);
});
