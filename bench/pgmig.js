// pgmig.js - run postgres-migrations (which has no command line) on DIR.
//   node bench/pgmig.js DIR        libpq's PGHOST, PGPORT, PGUSER, PGDATABASE
"use strict";
const { migrate } = require("postgres-migrations");
const pg = require("pg");

async function main() {
	const client = new pg.Client();
	await client.connect();
	try {
		await migrate({ client }, process.argv[2]);
	} finally {
		await client.end();
	}
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
