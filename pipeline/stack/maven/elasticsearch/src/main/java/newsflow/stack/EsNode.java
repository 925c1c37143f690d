package newsflow.stack;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.metadata.Metadata;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.lucene.analysis.miscellaneous.DisableGraphAttribute;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginBundle;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Starts one real Elasticsearch 8 node inside this JVM, from the server jars on the classpath.
 *
 * <p>The official distribution starts through a CLI that forks the server JVM, installs entitlement
 * checks and loads its "modules" (transport-netty4, analysis-common, x-pack, ...) each from its own
 * directory of jars with its own class loader. Here everything sits on one flat classpath instead:
 * <ul>
 *   <li>a {@code plugin-descriptor.properties} per wanted module is written to {@code <home>/modules/<name>/}
 *       (no jars there) and read back with the stock {@link PluginsLoader#loadModulesBundles};</li>
 *   <li>the stock loader would give each module a fresh class loader, and {@code PluginsService} insists that
 *       the plugin class is defined by exactly that loader, which fails for classes found on the classpath.
 *       So the loader is assembled by reflection with the application class loader as every module's
 *       loader (see {@link #classpathPluginsLoader}) -- the same idea as the test framework's
 *       MockPluginsService, without dragging in ESTestCase;</li>
 *   <li>two small inner plugins stand in for distribution modules that are not on Maven Central: the
 *       {@code cjk} analyzer/filters (analysis-common) and the {@code GET /} banner (rest-root);</li>
 *   <li>the node is built with the public {@code Node(Environment, PluginsLoader)} constructor, the one the
 *       distribution's bootstrap uses: real services, real Netty4 HTTP and transport, no mocks.</li>
 * </ul>
 * No security (x-pack is not on the classpath), plain HTTP. Only meant for local development and CI.
 */
public final class EsNode {

    private static final String NETTY_MODULE = "transport-netty4";
    private static final String CJK_MODULE = "newsflow-analysis-cjk";
    private static final String ROOT_MODULE = "newsflow-rest-root";
    /** The ES version this launcher was written against (see pom.xml). */
    static final String PINNED = "8.19.21";

    public static void main(String[] argv) throws Exception {
        // JVM-wide defaults the distribution passes as -D flags; they must be set before log4j/netty classes load.
        defaultProperty("log4j.shutdownHookEnabled", "false"); // we stop log4j ourselves, after the node is closed
        defaultProperty("log4j2.disable.jmx", "true");
        defaultProperty("log4j2.formatMsgNoLookups", "true");
        defaultProperty("io.netty.noUnsafe", "true");
        defaultProperty("io.netty.noKeySetOptimization", "true");
        defaultProperty("io.netty.recycler.maxCapacityPerThread", "0");
        // ES's SIMD library libvec.so only ships in the distribution; without this switch its absence (JDK 21+)
        // disables *all* native access, zstd included
        defaultProperty("org.elasticsearch.nativeaccess.enableVectorLibrary", "false");

        Settings.Builder settings = Settings.builder()
            .put("cluster.name", "newsflow")
            .put("node.name", "newsflow-es")
            .put("network.host", "127.0.0.1")
            .put("http.port", "9200")
            .put("transport.port", "9300")
            .put("discovery.type", "single-node")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // a nearly full dev disk must not flip indices to read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        Path home = Path.of("es-node");
        String data = null;
        String logs = null;
        String seedHosts = null;
        String initialMasters = null;
        boolean quiet = false;

        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            switch (a) {
                case "--home" -> home = Path.of(value(argv, ++i, a));
                case "--data" -> data = value(argv, ++i, a);
                case "--logs" -> logs = value(argv, ++i, a);
                case "--http-port" -> settings.put("http.port", value(argv, ++i, a));
                case "--transport-port" -> settings.put("transport.port", value(argv, ++i, a));
                case "--cluster-name" -> settings.put("cluster.name", value(argv, ++i, a));
                case "--node-name" -> settings.put("node.name", value(argv, ++i, a));
                case "--host" -> settings.put("network.host", value(argv, ++i, a));
                case "--seed-hosts" -> seedHosts = value(argv, ++i, a);
                case "--initial-master-nodes" -> initialMasters = value(argv, ++i, a);
                case "--quiet" -> quiet = true; // log to the file only
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    if (a.startsWith("-E") && a.indexOf('=') > 2) { // any other setting, as with bin/elasticsearch
                        settings.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
                    } else {
                        System.err.println("unknown argument: " + a + "\n" + USAGE);
                        System.exit(2);
                    }
                }
            }
        }
        if (seedHosts != null) { // one member of a cluster: find the others over the Netty4 transport
            settings.remove("discovery.type");
            settings.putList("discovery.seed_hosts", List.of(seedHosts.split(",")));
            if (initialMasters != null) { // only for the very first start of a new cluster
                settings.putList("cluster.initial_master_nodes", List.of(initialMasters.split(",")));
            }
        } else if (initialMasters != null) {
            System.err.println("--initial-master-nodes needs --seed-hosts\n" + USAGE);
            System.exit(2);
        }
        home = home.toAbsolutePath().normalize();
        Path dataDir = data == null ? home.resolve("data") : Path.of(data).toAbsolutePath().normalize();
        Path logsDir = logs == null ? home.resolve("logs") : Path.of(logs).toAbsolutePath().normalize();
        settings.put("path.home", home.toString()).put("path.data", dataDir.toString()).put("path.logs", logsDir.toString());

        prepareHome(home, dataDir, logsDir);
        Environment env = new Environment(settings.build(), home.resolve("config"));

        LogConfigurator.setClusterName(env.settings().get("cluster.name"));
        LogConfigurator.setNodeName(env.settings().get("node.name"));
        LogConfigurator.configure(env, quiet == false);
        Logger log = LogManager.getLogger(EsNode.class);
        linkZstd(home, log);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            log.error("uncaught exception in thread [" + t.getName() + "]", e);
            if (e instanceof VirtualMachineError) {
                Runtime.getRuntime().halt(1); // the JVM state is not trustworthy any more (e.g. OOM)
            }
        });

        if (PINNED.equals(Build.current().version()) == false) {
            log.warn("launcher written for Elasticsearch {} but running {}: plugin loading uses ES internals", PINNED,
                Build.current().version());
        }
        PluginsLoader plugins = classpathPluginsLoader(env);

        Node node;
        try {
            node = new Node(env, plugins);
        } catch (Throwable e) {
            log.error("could not create the node", e);
            shutdownLogging();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                log.info("stopping (shutdown signal)");
                node.prepareForClose();
                node.close();
                if (node.awaitClose(10, TimeUnit.SECONDS) == false) {
                    log.warn("node did not stop within 10s");
                }
            } catch (Exception e) {
                log.error("error while stopping the node", e);
            } finally {
                shutdownLogging();
                stopped.countDown();
            }
        }, "es-node-shutdown"));

        try {
            node.start();
        } catch (Throwable e) {
            log.error("could not start the node", e);
            System.exit(1); // runs the shutdown hook, which closes the half-started node
        }
        log.info("Elasticsearch {} ready on http://{}:{} (data {})",
            Build.current().version(), env.settings().get("network.host"), env.settings().get("http.port"), dataDir);

        // All of the node's threads are daemon threads: park main until the shutdown hook has closed the node.
        stopped.await();
    }

    /**
     * A {@link PluginsLoader} whose modules (descriptors under {@code <home>/modules}) are all served by the
     * application class loader. Uses the package-private constructor and the private {@code LoadedPluginLayer}
     * record of ES {@value #PINNED}; if these ever change the node fails at startup, loudly.
     */
    private static PluginsLoader classpathPluginsLoader(Environment env) throws ReflectiveOperationException {
        Set<PluginBundle> modules = PluginsLoader.loadModulesBundles(env.modulesDir());
        ClassLoader app = EsNode.class.getClassLoader();
        Class<?> layerType = Class.forName(PluginsLoader.class.getName() + "$LoadedPluginLayer");
        Constructor<?> newLayer = layerType.getDeclaredConstructor(
            PluginBundle.class, ClassLoader.class, ModuleLayer.class, ClassLoader.class, ModuleLayer.class);
        newLayer.setAccessible(true);
        Map<String, Object> layers = new LinkedHashMap<>();
        for (PluginBundle bundle : modules) {
            // (bundle, plugin loader, plugin module layer, SPI loader, SPI module layer)
            layers.put(bundle.pluginDescriptor().getName(),
                newLayer.newInstance(bundle, app, ModuleLayer.boot(), app, ModuleLayer.boot()));
        }
        Constructor<PluginsLoader> newLoader = PluginsLoader.class.getDeclaredConstructor(Set.class, Set.class, Map.class);
        newLoader.setAccessible(true);
        return newLoader.newInstance(modules, Set.of(), layers);
    }

    /**
     * On JDK 21+ ES binds zstd (used by {@code index.codec: best_compression} and logsdb indices) through the FFM
     * API from {@code es.nativelibs.path}, a directory the distribution fills with its own libzstd.so. Point it at
     * a directory with a link to the OS copy (Debian/Ubuntu package libzstd1). On JDK 17 ES uses its embedded JNA,
     * which finds the OS library by itself.
     */
    private static void linkZstd(Path home, Logger log) throws IOException {
        if (System.getProperty("es.nativelibs.path") != null || System.getProperty("os.name").startsWith("Linux") == false) {
            return;
        }
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64";
        Path dir = Files.createDirectories(home.resolve("lib").resolve("native"));
        System.setProperty("es.nativelibs.path", dir.toString());
        Path link = dir.resolve("libzstd.so");
        for (String candidate : List.of("/usr/lib/" + arch + "-linux-gnu/libzstd.so.1", "/lib/" + arch + "-linux-gnu/libzstd.so.1",
            "/usr/lib64/libzstd.so.1", "/usr/lib/libzstd.so.1")) {
            Path lib = Path.of(candidate);
            if (Files.exists(lib)) {
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, lib);
                return;
            }
        }
        log.warn("no system libzstd.so.1 found (apt-get install libzstd1): on JDK 21+ best_compression indices will fail");
    }

    /** Creates the directory layout the node expects and the module descriptors that point at classpath classes. */
    private static void prepareHome(Path home, Path data, Path logs) throws IOException {
        for (Path p : List.of(home.resolve("config"), data, logs)) {
            Files.createDirectories(p);
        }
        // start from a clean modules dir so stale descriptors (e.g. from another ES version) never linger
        Path modules = home.resolve("modules");
        if (Files.exists(modules)) {
            try (var walk = Files.walk(modules)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        writeDescriptor(modules, NETTY_MODULE, "org.elasticsearch.transport.netty4.Netty4Plugin", "Netty 4 HTTP and transport");
        writeDescriptor(modules, CJK_MODULE, CjkAnalysisPlugin.class.getName(), "cjk analyzer, cjk_bigram and cjk_width filters");
        writeDescriptor(modules, ROOT_MODULE, RootEndpointPlugin.class.getName(), "GET / (cluster and version info)");

        Path log4j = home.resolve("config").resolve("log4j2.properties");
        if (Files.exists(log4j) == false) { // keep a hand-edited file
            Files.writeString(log4j, LOG4J2, StandardCharsets.UTF_8);
        }
    }

    private static void writeDescriptor(Path modules, String name, String className, String description) throws IOException {
        Path dir = Files.createDirectories(modules.resolve(name));
        String props = "name=" + name + "\n"
            + "description=" + description + "\n"
            + "version=" + Build.current().version() + "\n"
            + "elasticsearch.version=" + Build.current().version() + "\n"
            + "java.version=17\n"
            + "classname=" + className + "\n";
        Files.writeString(dir.resolve("plugin-descriptor.properties"), props, StandardCharsets.UTF_8);
    }

    private static void shutdownLogging() {
        Configurator.shutdown((LoggerContext) LogManager.getContext(false));
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static String value(String[] argv, int i, String flag) {
        if (i >= argv.length) {
            System.err.println(flag + " needs a value\n" + USAGE);
            System.exit(2);
        }
        return argv[i];
    }

    private static final String USAGE = """
        usage: java -Xms1g -Xmx1g -cp 'DIST/*' newsflow.stack.EsNode [options]
          --home DIR            node home (config/, modules/, lib/ are created here)         [./es-node]
          --data DIR            path.data                                                     [HOME/data]
          --logs DIR            path.logs                                                     [HOME/logs]
          --http-port N         http.port                                                     [9200]
          --transport-port N    transport.port                                                [9300]
          --cluster-name NAME   cluster.name                                                  [newsflow]
          --node-name NAME      node.name                                                     [newsflow-es]
          --host ADDR           network.host                                                  [127.0.0.1]
          --seed-hosts H:P,...  join a cluster: discovery.seed_hosts (transport addresses)   [single-node]
          --initial-master-nodes NAME,...  cluster.initial_master_nodes, first start of a new cluster only
          --quiet               log to HOME/logs only, not to stdout
          -Ekey=value           any other node setting""";

    // Plain-text log: console (unless --quiet) plus a size-rolled file <logs>/<cluster>.log.
    private static final String LOG4J2 = """
        status = error
        appender.console.type = Console
        appender.console.name = console
        appender.console.layout.type = PatternLayout
        appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
        appender.file.type = RollingFile
        appender.file.name = file
        appender.file.fileName = ${sys:es.logs.base_path}/${sys:es.logs.cluster_name}.log
        appender.file.filePattern = ${sys:es.logs.base_path}/${sys:es.logs.cluster_name}-%i.log.gz
        appender.file.layout.type = PatternLayout
        appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
        appender.file.policies.type = Policies
        appender.file.policies.size.type = SizeBasedTriggeringPolicy
        appender.file.policies.size.size = 64MB
        appender.file.strategy.type = DefaultRolloverStrategy
        appender.file.strategy.max = 3
        rootLogger.level = info
        rootLogger.appenderRef.console.ref = console
        rootLogger.appenderRef.file.ref = file
        """;

    /**
     * Stand-in for the parts of the analysis-common module that newsflow uses (that module is not published
     * to Maven Central). The Lucene classes doing the work ship with the server (lucene-analysis-common).
     */
    public static final class CjkAnalysisPlugin extends Plugin implements AnalysisPlugin {

        /** {@code "analyzer": "cjk"} in a mapping resolves to this pre-built instance. */
        @Override
        public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
            return List.of(new PreBuiltAnalyzerProviderFactory("cjk", CachingStrategy.LUCENE, CJKAnalyzer::new));
        }

        /** {@code "type": "cjk"} in index analysis settings (supports {@code stopwords}/{@code stopwords_path}). */
        @Override
        public Map<String, AnalysisProvider<AnalyzerProvider<? extends org.apache.lucene.analysis.Analyzer>>> getAnalyzers() {
            return Map.of("cjk", (indexSettings, env, name, s) -> {
                CharArraySet stop = Analysis.parseStopWords(env, s, CJKAnalyzer.getDefaultStopSet());
                CJKAnalyzer analyzer = new CJKAnalyzer(stop);
                return new AbstractIndexAnalyzerProvider<CJKAnalyzer>(name, s) {
                    @Override
                    public CJKAnalyzer get() {
                        return analyzer;
                    }
                };
            });
        }

        /** Configurable filters, for custom analyzers: {@code cjk_bigram} (ignored_scripts, output_unigrams), {@code cjk_width}. */
        @Override
        public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
            return Map.of("cjk_bigram", (indexSettings, env, name, s) -> {
                int scripts = CJKBigramFilter.HAN | CJKBigramFilter.HIRAGANA | CJKBigramFilter.KATAKANA | CJKBigramFilter.HANGUL;
                for (String ignored : s.getAsList("ignored_scripts")) {
                    scripts &= ~switch (ignored) {
                        case "han" -> CJKBigramFilter.HAN;
                        case "hiragana" -> CJKBigramFilter.HIRAGANA;
                        case "katakana" -> CJKBigramFilter.KATAKANA;
                        case "hangul" -> CJKBigramFilter.HANGUL;
                        default -> throw new IllegalArgumentException("unknown script in ignored_scripts: " + ignored);
                    };
                }
                final int flags = scripts;
                final boolean unigrams = s.getAsBoolean("output_unigrams", false);
                return new AbstractTokenFilterFactory(name, s) {
                    @Override
                    public TokenStream create(TokenStream in) {
                        TokenStream out = new CJKBigramFilter(in, flags, unigrams);
                        if (unigrams) {
                            // unigrams + bigrams overlap in positions; query-time graph analysis would explode
                            out.addAttribute(DisableGraphAttribute.class);
                        }
                        return out;
                    }
                };
            }, "cjk_width", (indexSettings, env, name, s) -> new CjkWidth(name, s));
        }

        /** The same two filters by name with default settings, usable without declaring them. */
        @Override
        public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
            return List.of(
                PreConfiguredTokenFilter.singleton("cjk_bigram", false, CJKBigramFilter::new),
                PreConfiguredTokenFilter.singleton("cjk_width", true, CJKWidthFilter::new)
            );
        }

        /** Width folding also applies to normalizers / multi-term queries. */
        private static final class CjkWidth extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
            CjkWidth(String name, Settings settings) {
                super(name, settings);
            }

            @Override
            public TokenStream create(TokenStream in) {
                return new CJKWidthFilter(in);
            }
        }
    }

    /**
     * {@code GET /} and {@code HEAD /}: the "You Know, for Search" banner. In 8.x it lives in the rest-root
     * module, which is not on Maven Central; clients call it ({@code Elasticsearch.info()}, and some check it
     * to verify they talk to Elasticsearch), so this re-creates the same JSON document from the node's own
     * build and cluster state.
     */
    public static final class RootEndpointPlugin extends Plugin implements ActionPlugin {
        private volatile ClusterService clusterService;

        @Override
        public Collection<?> createComponents(PluginServices services) {
            clusterService = services.clusterService();
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry namedWriteables,
            RestController controller, ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings,
            SettingsFilter settingsFilter, IndexNameExpressionResolver resolver, Supplier<DiscoveryNodes> nodes,
            Predicate<NodeFeature> clusterSupportsFeature) {
            String nodeName = Node.NODE_NAME_SETTING.get(settings);
            return List.of(new BaseRestHandler() {
                @Override
                public String getName() {
                    return "newsflow_root_action";
                }

                @Override
                public List<Route> routes() {
                    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
                }

                @Override
                public boolean canTripCircuitBreaker() {
                    return false;
                }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    return channel -> {
                        ClusterState state = clusterService.state();
                        Metadata md = state.metadata();
                        Build build = Build.current();
                        XContentBuilder b = channel.newBuilder();
                        if (request.hasParam("pretty") == false) {
                            b.prettyPrint().lfAtEnd(); // pretty unless ?pretty=false, like the real endpoint
                        }
                        b.startObject()
                            .field("name", nodeName)
                            .field("cluster_name", state.getClusterName().value())
                            .field("cluster_uuid", md.clusterUUIDCommitted() ? md.clusterUUID() : Metadata.UNKNOWN_CLUSTER_UUID)
                            .startObject("version")
                            .field("number", build.qualifiedVersion())
                            .field("build_flavor", build.flavor())
                            .field("build_type", build.type().displayName())
                            .field("build_hash", build.hash())
                            .field("build_date", build.date())
                            .field("build_snapshot", build.isSnapshot())
                            .field("lucene_version", org.apache.lucene.util.Version.LATEST.toString())
                            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                            .endObject()
                            .field("tagline", "You Know, for Search")
                            .endObject();
                        channel.sendResponse(new RestResponse(RestStatus.OK, b));
                    };
                }
            });
        }
    }
}
