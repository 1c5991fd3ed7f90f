using KmsFarm.TestKit;

// One throwaway PostgreSQL for the assembly; each test makes its own database on it. Tests that stop the server use
// their own (see RestartablePostgres).
[assembly: AssemblyFixture(typeof(PostgresFixture))]
