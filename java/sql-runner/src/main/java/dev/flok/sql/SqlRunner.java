package dev.flok.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

/**
 * Runs a SQL script as one Flink job: {@code SET} statements configure the job, the
 * statements that define things (CREATE, USE, ALTER, DROP, LOAD ...) run in order, and
 * every INSERT becomes part of one statement set, submitted at the end as the job. Each
 * INSERT is planned on its own first, so that an error names the statement and line it
 * is in; the runner submits nothing while any statement fails.
 *
 * <pre>
 * SqlRunner --script-file /path/to/job.sql [--validate]
 * </pre>
 *
 * With {@code --validate} it plans the job and stops there, without submitting it.
 */
public final class SqlRunner {
    /** {@code SET 'key' = 'value'}, as the SQL client writes it. */
    private static final Pattern QUOTED_SET =
            Pattern.compile("(?is)SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'");
    /** {@code SET key = value}, the older form. */
    /** Where in a statement Flink's parser or validator found an error. */
    private static final Pattern POSITION = Pattern.compile("line (\\d+), column (\\d+)");
    private static final Pattern PLAIN_SET = Pattern.compile("(?is)SET\\s+([^\\s=']+)\\s*=\\s*(\\S.*)");

    private SqlRunner() {}

    public static void main(String[] args) throws IOException {
        String file = null;
        boolean validate = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--script-file") && i + 1 < args.length) {
                file = args[++i];
            } else if (args[i].equals("--validate")) {
                validate = true;
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: SqlRunner --script-file FILE [--validate]");
            }
        }
        if (file == null) {
            throw new IllegalArgumentException("no script: usage: SqlRunner --script-file FILE [--validate]");
        }
        String script = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
        run(Script.parse(script), validate);
    }

    /** Runs the statements as one job, or only plans it when validating. */
    static void run(List<Script.Statement> statements, boolean validate) {
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        StatementSet job = tables.createStatementSet();
        int inserts = 0;
        for (Script.Statement s : statements) {
            try {
                switch (s.keyword()) {
                    case "SET":
                        set(tables, s);
                        break;
                    case "INSERT":
                        tables.explainSql(s.text);
                        job.addInsertSql(s.text);
                        inserts++;
                        break;
                    case "SELECT":
                    case "WITH":
                    case "VALUES":
                        throw new IllegalArgumentException(
                                "a query's rows have nowhere to go in a job: write them with INSERT INTO a table");
                    default:
                        tables.executeSql(s.text);
                }
            } catch (RuntimeException e) {
                throw new SqlScriptException(s, e);
            }
        }
        if (inserts == 0) {
            throw new IllegalArgumentException(
                    "the script has no INSERT statement: a SQL job writes its results with INSERT INTO a table");
        }
        if (validate) {
            job.explain();
            System.out.println("the script's " + statements.size() + " statements plan as one job of "
                    + inserts + " INSERT statements");
            return;
        }
        job.execute();
    }

    /** Applies a SET statement to the job's configuration. */
    private static void set(TableEnvironment tables, Script.Statement s) {
        Matcher m = QUOTED_SET.matcher(s.text);
        if (m.matches()) {
            tables.getConfig().set(m.group(1).replace("''", "'"), m.group(2).replace("''", "'"));
            return;
        }
        m = PLAIN_SET.matcher(s.text);
        if (m.matches()) {
            tables.getConfig().set(m.group(1), m.group(2).trim());
            return;
        }
        throw new IllegalArgumentException("a SET statement sets one option: SET 'key' = 'value'");
    }

    /** A statement of the script that failed, with its place in the script. */
    static final class SqlScriptException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SqlScriptException(Script.Statement s, RuntimeException cause) {
            super(where(s, cause) + " of the SQL script: " + rootMessage(cause) + "\n" + excerpt(s.text), cause);
        }

        /**
         * The statement and the line of the script the error is on: Flink's parser and
         * validator count lines from the statement's start, the script's reader from its own.
         */
        private static String where(Script.Statement s, Throwable t) {
            for (; t != null; t = t.getCause() == t ? null : t.getCause()) {
                Matcher m = POSITION.matcher(String.valueOf(t.getMessage()));
                if (m.find()) {
                    int line = s.line + Integer.parseInt(m.group(1)) - 1;
                    return "statement " + s.number + " (line " + line + ", column " + m.group(2) + ")";
                }
            }
            return s.where();
        }

        /** The message of the innermost cause that has one: the parser's or validator's. */
        private static String rootMessage(Throwable t) {
            String message = t.getMessage();
            for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
                if (c.getMessage() != null) {
                    message = c.getMessage();
                }
                t = c;
            }
            return message;
        }

        /** The statement's first lines, as the error quotes it. */
        private static String excerpt(String text) {
            String[] lines = text.split("\n", -1);
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lines.length && i < 3; i++) {
                b.append("  ").append(lines[i]).append('\n');
            }
            if (lines.length > 3) {
                b.append("  ...\n");
            }
            return b.toString();
        }
    }
}
