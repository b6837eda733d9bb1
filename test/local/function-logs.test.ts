import { describeFunctionLogSuite } from './function-logs-suite.ts';

describeFunctionLogSuite({ logSql: false });
