package org.dmtcpng.reports.allure;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads back an Allure report made with {@code allure generate --single-file}:
 * its index.html embeds every data file base64-encoded, as
 * {@code d('data/test-cases/<id>.json','<base64>')}. Used to prove that a
 * generated report really carries the test cases it should show.
 */
public final class SingleFileReport {
    private static final Pattern TEST_CASE = Pattern.compile("d\\('data/test-cases/[^']+\\.json','([A-Za-z0-9+/=]+)'\\)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private SingleFileReport() {
    }

    /** The names and statuses ("name: status") of the test cases the report shows. */
    public static List<String> testCases(Path indexHtml) throws IOException {
        String html = Files.readString(indexHtml);
        List<String> cases = new ArrayList<>();
        Matcher m = TEST_CASE.matcher(html);
        while (m.find()) {
            JsonNode tc = JSON.readTree(new String(Base64.getDecoder().decode(m.group(1)), StandardCharsets.UTF_8));
            cases.add(tc.path("name").asText() + ": " + tc.path("status").asText());
        }
        return cases;
    }

    /** {@code SingleFileReport <index.html>}: prints the test cases of a report; exit 99 if it has none. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SingleFileReport <index.html>");
            System.exit(2);
        }
        List<String> cases = testCases(Path.of(args[0]));
        if (cases.isEmpty()) {
            System.err.println("allure: " + args[0] + ": the report shows no test case");
            System.exit(99);
        }
        System.out.println("allure: " + args[0] + " shows " + cases.size() + " test cases");
    }
}
