package render

import "github.com/flok-dev/flok/internal/flinkconf"

// javaOpts17 is what Flink's distributions set in env.java.opts.all so that Flink runs
// on Java 17 and later. The JobManager and TaskManagers see only the configuration Flok
// mounts (it replaces the image's conf directory), so Flok carries these on, as Flink's
// own client does with the configuration it was started with.
const (
	javaOpts17Common = "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
	javaOpts17Flink1 = "--add-exports=java.base/sun.net.util=ALL-UNNAMED " + javaOpts17Common
)

// VersionDefaults is the configuration Flink's distribution of a version ships in its
// conf directory, less what only makes sense on a laptop (localhost bind addresses):
// the lowest layer of every rendered configuration.
func VersionDefaults(v flinkconf.Version) flinkconf.Config {
	c := flinkconf.Config{
		"jobmanager.rpc.port":                    "6123",
		"jobmanager.memory.process.size":         "1600m",
		"taskmanager.memory.process.size":        "1728m",
		"taskmanager.numberOfTaskSlots":          "1",
		"parallelism.default":                    "1",
		"jobmanager.execution.failover-strategy": "region",
	}
	switch {
	case v.AtLeast(2, 0):
		c["env.java.opts.all"] = javaOpts17Common
	case v.AtLeast(1, 18):
		c["env.java.opts.all"] = javaOpts17Flink1
	}
	return c
}

// DefaultLog4jConsole logs to the console, where kubectl logs finds it, at INFO; the
// log file Flink's scripts name is written too, for the web UI's log view.
const DefaultLog4jConsole = `monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
rootLogger.appenderRef.rolling.ref = RollingFileAppender
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.rolling.name = RollingFileAppender
appender.rolling.type = RollingFile
appender.rolling.append = true
appender.rolling.fileName = ${sys:log.file}
appender.rolling.filePattern = ${sys:log.file}.%i
appender.rolling.layout.type = PatternLayout
appender.rolling.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.rolling.policies.type = Policies
appender.rolling.policies.size.type = SizeBasedTriggeringPolicy
appender.rolling.policies.size.size = 100MB
appender.rolling.policies.startup.type = OnStartupTriggeringPolicy
appender.rolling.strategy.type = DefaultRolloverStrategy
appender.rolling.strategy.max = ${env:MAX_LOG_FILE_NUMBER:-10}
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
`
