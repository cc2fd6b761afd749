from jiketong.core.widgets import PlainSelect


def test_plain_select_marks_the_chosen_value_and_escapes_labels():
    html = PlainSelect(choices=[("", "---"), ("7", "李<晓红>"), ("8", "王强")]).render("owner", "7", {"id": "id_owner"})
    assert html == (
        '<select name="owner" id="id_owner"><option value="">---</option>'
        '<option value="7" selected>李&lt;晓红&gt;</option><option value="8">王强</option></select>'
    )
