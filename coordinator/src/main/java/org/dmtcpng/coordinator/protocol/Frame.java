package org.dmtcpng.coordinator.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One message: a type and its fields, in order. A key normally appears once; keys that the
 * protocol repeats (the peer list) are kept in order as well.
 */
public final class Frame {
  private final int type;
  private final List<Map.Entry<String, String>> fields;

  private Frame(int type, List<Map.Entry<String, String>> fields) {
    this.type = type;
    this.fields = fields;
  }

  public static Frame of(int type) {
    return new Frame(type, new ArrayList<>());
  }

  public Frame with(String key, Object value) {
    fields.add(Map.entry(key, String.valueOf(value)));
    return this;
  }

  public int type() {
    return type;
  }

  public List<Map.Entry<String, String>> fields() {
    return Collections.unmodifiableList(fields);
  }

  /** The first value of key, or null. */
  public String get(String key) {
    for (Map.Entry<String, String> e : fields) {
      if (e.getKey().equals(key)) {
        return e.getValue();
      }
    }
    return null;
  }

  public String get(String key, String dflt) {
    String v = get(key);
    return v == null ? dflt : v;
  }

  /** Every value of a repeated key, in order. */
  public List<String> getAll(String key) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, String> e : fields) {
      if (e.getKey().equals(key)) {
        values.add(e.getValue());
      }
    }
    return values;
  }

  /** A numeric field; throws ProtocolException if it is present but not a number. */
  public long getLong(String key, long dflt) {
    String v = get(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ProtocolException("field " + key + " is not a number: " + v);
    }
  }

  public String require(String key) {
    String v = get(key);
    if (v == null) {
      throw new ProtocolException("missing field " + key);
    }
    return v;
  }

  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : fields) {
      m.putIfAbsent(e.getKey(), e.getValue());
    }
    return m;
  }

  @Override
  public String toString() {
    return "Frame[" + type + " " + fields + "]";
  }
}
