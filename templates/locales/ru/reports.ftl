# Страница отчётов (/reports).
reports-title = Отчёты
reports-range = Период
reports-range-today = Сегодня
reports-range-7d = 7 дней
reports-range-30d = 30 дней
reports-from = С
reports-to = По
reports-show-custom = Показать за этот период
reports-invalid = Исправьте период выше, чтобы увидеть отчёт.
reports-from-to = С { $from } по { $to }
reports-total-deliveries = { $count ->
    [one] доставка
    [few] доставки
   *[many] доставок
}
reports-total-successes = { $count ->
    [one] успешная
    [few] успешные
   *[many] успешных
}
reports-total-failures = { $count ->
    [one] неудачная
    [few] неудачные
   *[many] неудачных
}
reports-total-rate = доля успешных
reports-total-retries = { $count ->
    [one] повтор
    [few] повтора
   *[many] повторов
}
reports-total-unsubscribes = { $count ->
    [one] отписка
    [few] отписки
   *[many] отписок
}
reports-total-bounces = { $count ->
    [one] недоставка
    [few] недоставки
   *[many] недоставок
}
reports-total-complaints = { $count ->
    [one] жалоба
    [few] жалобы
   *[many] жалоб
}
reports-chart-caption = Попытки по дням: успешные — сплошной заливкой, неудачные — штриховкой; точка отмечает день с отписками, недоставками или жалобами. Числа — в таблице ниже.
reports-chart-table = График в виде таблицы
reports-col-day = День
reports-col-message = Сообщение
reports-col-mailing = Рассылка
reports-col-deliveries = Доставки
reports-col-successes = Успешные
reports-col-failures = Неудачные
reports-col-rate = Доля успешных
reports-col-retries = Повторы
reports-col-unsubscribes = Отписки
reports-col-bounces = Недоставки
reports-col-complaints = Жалобы
reports-col-last-attempt = Последняя попытка
reports-col-last-status = Последний итог
reports-col-last-reply = Последний ответ
reports-status-success = успешно
reports-status-failure = неудачно
reports-per-message = Отчёт по сообщениям
reports-per-mailing = Отчёт по рассылкам
reports-group-by = Группировка
reports-by-mailing = По рассылкам
reports-by-message = По сообщениям
reports-download-csv = Скачать эту таблицу в CSV
reports-empty = С { $from } по { $to } попыток не было.
reports-empty-hint = Выберите период подлиннее или
reports-empty-send = отправьте рассылку.
reports-defs-title = Что считают эти числа
reports-def-deliveries = Письма (один клиент, одна отправка рассылки), первая попытка которых пришлась на этот период.
reports-def-successes = Попытки за период, которые почтовый сервер принял.
reports-def-failures = Попытки за период, которые сервер отклонил или при которых до него не удалось достучаться.
reports-def-rate = Успешные ÷ (успешные + неудачные): доля попыток, которые прошли.
reports-def-retries = Попытки за период сверх первой в своей доставке (попытки − доставки).
reports-def-unsubscribes = Получатели, отписавшиеся за период — по ссылке, кнопкой своей почтовой программы или письмом; засчитываются той рассылке, чьим письмом они воспользовались.
reports-def-bounces = Письма, о которых за период сообщили, что их не удалось доставить: сразу — принимающий сервер, или позже — письмо о недоставке (жёсткая: адреса не существует; мягкая: временный сбой).
reports-def-complaints = Получатели, отметившие письмо как спам за период (сообщения от их почтового провайдера).
reports-def-last-attempt-term = Последняя попытка
reports-def-last-attempt = Самая поздняя попытка за период с ответом сервера (или ошибкой).
chart-title = Попытки по дням: успешные — сплошные, неудачные — штриховка
chart-successes = Успешные (сплошные)
chart-failures = Неудачные (штриховка)
chart-said = Отписки, недоставки (точка)
chart-highest = максимум за день: { $max }
chart-bar = { $successes } успешных, { $failures } неудачных
chart-unsubscribes = { $count ->
    [one] { $count } отписка
    [few] { $count } отписки
   *[many] { $count } отписок
}
chart-bounces = { $count ->
    [one] { $count } недоставка
    [few] { $count } недоставки
   *[many] { $count } недоставок
}
chart-complaints = { $count ->
    [one] { $count } жалоба
    [few] { $count } жалобы
   *[many] { $count } жалоб
}
reports-lead = Попытки доставки ваших рассылок — по рассылкам или по сообщениям. Время и дни указаны в вашем часовом поясе, { $zone }.
