package dev.flok.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A SQL script cut into its statements at the semicolons that end them — not those in
 * strings, quoted identifiers or comments — each with the line it starts on, so that an
 * error can name the statement and line. The statements of an {@code EXECUTE STATEMENT
 * SET BEGIN ... END} block come out as the plain statements they are: the runner puts
 * every INSERT of a script into one job anyway.
 */
final class Script {
    private Script() {}

    /** One statement of a script: its text without the semicolon and where it starts. */
    static final class Statement {
        /** The statement's position in the script, from 1. */
        final int number;
        /** The line of the script the statement starts on, from 1. */
        final int line;
        /** The statement's text, comments kept, without the ending semicolon. */
        final String text;

        Statement(int number, int line, String text) {
            this.number = number;
            this.line = line;
            this.text = text;
        }

        /** The statement's first keyword, upper case; empty for a statement of comments only. */
        String keyword() {
            String code = stripLeadingComments(text);
            int end = 0;
            while (end < code.length() && Character.isLetter(code.charAt(end))) {
                end++;
            }
            return code.substring(0, end).toUpperCase(Locale.ROOT);
        }

        /** Where the statement is, as an error names it. */
        String where() {
            return "statement " + number + " (line " + line + ")";
        }
    }

    /** Cuts a script into its statements; empty ones (comments only) are left out. */
    static List<Statement> parse(String script) {
        List<Statement> out = new ArrayList<>();
        int line = 1;
        int start = 0;
        int startLine = 1;
        int i = 0;
        int n = script.length();
        while (i < n) {
            char c = script.charAt(i);
            if (c == '\n') {
                line++;
                i++;
            } else if (c == '\'' || c == '"' || c == '`') {
                int end = script.indexOf(c, i + 1);
                end = end < 0 ? n : end + 1;
                line += count(script, i, end);
                i = end;
            } else if (script.startsWith("--", i)) {
                int end = script.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (script.startsWith("/*", i)) {
                int end = script.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                line += count(script, i, end);
                i = end;
            } else if (c == ';') {
                add(out, script.substring(start, i), startLine);
                i++;
                start = i;
                startLine = line;
            } else {
                i++;
            }
        }
        add(out, script.substring(start), startLine);
        return out;
    }

    /** Adds a piece of the script as a statement unless it holds no code. */
    private static void add(List<Statement> out, String piece, int pieceLine) {
        String code = stripLeadingComments(piece);
        if (code.isEmpty()) {
            return;
        }
        int line = pieceLine + count(piece, 0, piece.length() - code.length());
        String text = code.stripTrailing();
        String upper = text.toUpperCase(Locale.ROOT).replaceAll("\\s+", " ");
        if (upper.equals("END")) {
            return;
        }
        for (String opening : new String[] {"EXECUTE STATEMENT SET BEGIN", "BEGIN STATEMENT SET"}) {
            if (upper.startsWith(opening + " ")) {
                int words = opening.split(" ").length;
                int cut = skipWords(text, words);
                String rest = text.substring(cut);
                add(out, rest, line + count(text, 0, cut));
                return;
            }
        }
        out.add(new Statement(out.size() + 1, line, text));
    }

    /** The index after the first {@code words} words of text and the space after them. */
    private static int skipWords(String text, int words) {
        int i = 0;
        for (int w = 0; w < words; w++) {
            while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
        }
        return i;
    }

    /** The text from its first character of code on: leading blanks and comments cut. */
    static String stripLeadingComments(String text) {
        int i = 0;
        while (i < text.length()) {
            if (Character.isWhitespace(text.charAt(i))) {
                i++;
            } else if (text.startsWith("--", i)) {
                int end = text.indexOf('\n', i);
                i = end < 0 ? text.length() : end + 1;
            } else if (text.startsWith("/*", i)) {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? text.length() : end + 2;
            } else {
                break;
            }
        }
        return text.substring(i);
    }

    private static int count(String s, int from, int to) {
        int lines = 0;
        for (int i = from; i < to && i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                lines++;
            }
        }
        return lines;
    }
}
