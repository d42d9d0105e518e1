package io.prodready.tools.neo4j;

import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Starts an embedded Neo4j Community DBMS serving Bolt on 127.0.0.1 only, for tests.
 * Usage: Neo4jLauncher DATA_DIR PORT [--no-stdin-watch]
 * Prints "READY bolt://127.0.0.1:PORT" once the default database is available, then runs
 * until stdin hits EOF (parent gone) or SIGTERM/SIGINT. Auth is disabled: loopback test use only.
 */
public final class Neo4jLauncher {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Neo4jLauncher DATA_DIR PORT [--no-stdin-watch]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        boolean watchStdin = !(args.length > 2 && args[2].equals("--no-stdin-watch"));

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress(HOST))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                // defaults are 5 s each, which made every stop take ~10 s
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofMillis(500))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(500))
                .build();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            dbms.shutdown();
        }, "neo4j-launcher-shutdown"));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(TimeUnit.MINUTES.toMillis(5))) {
            System.err.println("neo4j launcher: default database not available after 5 minutes");
            System.exit(1);
        }
        System.out.println("READY bolt://" + HOST + ":" + port);
        System.out.flush();

        if (watchStdin) {
            Thread watcher = new Thread(() -> {
                try {
                    InputStream in = System.in;
                    while (in.read() != -1) { /* discard; EOF means the parent went away */ }
                } catch (Exception ignored) { /* treat a broken stdin like EOF */ }
                stop.countDown();
            }, "neo4j-launcher-stdin");
            watcher.setDaemon(true);
            watcher.start();
        }
        stop.await();
        System.exit(0); // runs the shutdown hook, which shuts the DBMS down cleanly
    }
}
